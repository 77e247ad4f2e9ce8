"""Staff pages for customer credit: the ledger and 'Add or remove credit'."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from accounts.http import signed_in_user
from accounts.models import User
from core.admin import RecordAdminMixin
from core.exceptions import ApplicationError

from ..forms import CreditAdjustForm
from ..models import CreditEntry
from ..money import format_money
from ..services import credit
from .columns import CREDIT_AMOUNT, CREDIT_BALANCE


@admin.register(CreditEntry)
class CreditEntryAdmin(RecordAdminMixin[CreditEntry], admin.ModelAdmin[CreditEntry]):
    """The credit ledger, read-only; staff add or remove credit through "Add or remove
    credit" (each entry audited by django-auditlog with the staff member as actor)."""

    list_display = (
        "created_at",
        "user",
        "kind",
        CREDIT_AMOUNT,
        CREDIT_BALANCE,
        "note",
        "actor",
    )
    list_filter = ("kind", "currency")
    search_fields = ("user__email", "note", "invoice__number")
    list_select_related = ("user", "actor")
    raw_id_fields = ("user", "invoice", "service", "actor")
    readonly_displays = {"amount": "amount_with_currency", "balance_after": "balance_with_currency"}
    change_list_template = "admin/billing/creditentry/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="billing_creditentry_adjust",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Amount")
    def amount_with_currency(self, entry: CreditEntry) -> str:
        return format_money(entry.amount, entry.currency)

    @admin.display(description="Balance after")
    def balance_with_currency(self, entry: CreditEntry) -> str:
        return format_money(entry.balance_after, entry.currency)

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        customer = User.objects.filter(pk=request.GET.get("user") or 0).first()
        form = CreditAdjustForm(
            data, initial={"customer_email": customer.email if customer else ""}
        )
        if data is not None and form.is_valid():
            try:
                entry = credit.credit_adjust(
                    user=form.cleaned_data["customer_email"],
                    currency=form.cleaned_data["currency"],
                    amount=form.signed_amount(),
                    note=form.cleaned_data["note"],
                    actor=signed_in_user(request),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    f"Credit of {entry.user.email} is now "
                    f"{format_money(entry.balance_after, entry.currency)}.",
                    messages.SUCCESS,
                )
                return redirect("admin:accounts_user_change", entry.user_id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Add or remove credit",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/billing/creditentry/adjust.html", context, status=400 if data else 200
        )
