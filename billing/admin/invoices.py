"""Staff pages for invoices (lines, payments, credit notes, audit trail, staff actions) and
credit notes."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from core.admin import RecordAdminMixin
from core.exceptions import ApplicationError

from ..audit import audit_status_change, invoice_audit_trail
from ..forms import BankTransferForm, ManualInvoiceForm, ManualLineFormSet
from ..models import CreditNote, Invoice, InvoiceLine, Payment
from ..money import format_money
from ..services import invoices, manual_payments, refunds
from .columns import AMOUNT, LINE_AMOUNT, LINE_UNIT, SUBTOTAL, TAX, TOTAL


class InvoiceLineInline(admin.TabularInline[InvoiceLine, Invoice]):
    model = InvoiceLine
    extra = 0
    fields = ("description", "quantity", "unit_price", "line_amount", "period_start", "period_end")
    readonly_fields = fields
    can_delete = False
    unit_price = staticmethod(LINE_UNIT)
    line_amount = staticmethod(LINE_AMOUNT)

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvoiceLine]:
        return super().get_queryset(request).select_related("invoice")


class PaymentInline(admin.TabularInline[Payment, Invoice]):
    model = Payment
    extra = 0
    fields = ("attempt", "status", "money", "stripe_payment_intent_id", "failure_message")
    readonly_fields = fields
    can_delete = False
    money = staticmethod(AMOUNT)


class CreditNoteInline(admin.TabularInline[CreditNote, Invoice]):
    model = CreditNote
    extra = 0
    fields = ("number", "money", "reason", "stripe_refund_id", "issued_on")
    readonly_fields = fields
    can_delete = False
    money = staticmethod(AMOUNT)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin[Invoice]):
    list_display = ("number", "billing_name", "status", TOTAL, "due_date")
    list_filter = ("status", "currency", "year")
    search_fields = ("number", "billing_name", "billing_email")
    list_select_related = ("user",)
    raw_id_fields = ("user", "order")
    inlines = [InvoiceLineInline, PaymentInline, CreditNoteInline]
    actions = ["mark_paid", "refund_in_full", "cancel"]
    change_list_template = "admin/billing/invoice/onepanel_change_list.html"
    change_form_template = "admin/billing/invoice/onepanel_change_form.html"
    # An issued invoice is a legal document: staff change its state, not its content.
    # Amounts are shown with their currency; their raw columns are left out of the form.
    readonly_fields = [
        {"subtotal": "money_subtotal", "tax_amount": "money_tax", "total": "money_total"}.get(
            field.name, field.name
        )
        for field in Invoice._meta.fields
        if field.name not in {"status"}
    ]
    exclude = ("subtotal", "tax_amount", "total")
    money_subtotal = staticmethod(SUBTOTAL)
    money_tax = staticmethod(TAX)
    money_total = staticmethod(TOTAL)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Invoice | None = None) -> list[str]:
        return [*self.readonly_fields, "status"]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        """The invoice with its audit trail: who did what to it, and when."""
        invoice = self.get_object(request, object_id)
        trail = invoice_audit_trail(invoice) if invoice is not None else []
        context = {"audit_trail": trail, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("manual/", view(self.manual_invoice_view), name="billing_invoice_manual"),
            path(
                "<int:pk>/bank-transfer/",
                view(self.bank_transfer_view),
                name="billing_invoice_bank_transfer",
            ),
            *super().get_urls(),
        ]

    def manual_invoice_view(self, request: HttpRequest) -> HttpResponse:
        """Staff write an invoice line by line; the invoice builder numbers and taxes it."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        initial = {"customer_email": request.GET.get("customer", "")}
        form = ManualInvoiceForm(data, initial=initial)
        lines = ManualLineFormSet(data, prefix="lines")
        if data is not None and form.is_valid() and lines.is_valid():
            try:
                invoice = invoices.invoice_issue_manual(
                    user=form.cleaned_data["customer_email"],
                    currency=form.cleaned_data["currency"],
                    due_date=form.cleaned_data["due_date"],
                    lines=[
                        invoices.ManualLine(
                            description=line["description"],
                            quantity=line["quantity"],
                            unit_amount=line["unit_price"],
                        )
                        for line in lines.cleaned_data
                        if line
                    ],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_addition(request, invoice, "Manual invoice issued by staff")
                self.message_user(request, f"Invoice {invoice.number} issued.", messages.SUCCESS)
                return redirect("admin:billing_invoice_change", invoice.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Issue a manual invoice",
            "opts": self.opts,
            "form": form,
            "lines": lines,
        }
        return TemplateResponse(request, "admin/billing/invoice/manual.html", context)

    def bank_transfer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Staff record money received by bank transfer; the invoice is then paid."""
        invoice = get_object_or_404(Invoice, pk=pk)
        if not self.has_change_permission(request, invoice):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        form = BankTransferForm(data, initial={"amount": invoice.total})
        if data is not None and form.is_valid():
            before = invoice.status
            try:
                payment = manual_payments.invoice_record_bank_transfer(
                    invoice=invoice, **form.cleaned_data
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                note = f"Bank transfer {payment.reference} of {payment.received_on} recorded"
                audit_status_change(invoice=invoice, before=before, note=note)
                self.log_change(request, invoice, note)
                self.message_user(
                    request,
                    f"Bank transfer recorded: invoice {invoice.number} is paid.",
                    messages.SUCCESS,
                )
                return redirect("admin:billing_invoice_change", invoice.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Record a bank transfer for {invoice.number}",
            "opts": self.opts,
            "original": invoice,
            "form": form,
            "total": format_money(invoice.total, invoice.currency),
        }
        return TemplateResponse(request, "admin/billing/invoice/bank_transfer.html", context)

    @admin.action(description="Mark paid (money received outside Stripe)", permissions=["change"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        done = self._each(
            request,
            queryset,
            manual_payments.invoice_mark_paid_outside_stripe,
            note="Marked paid by staff",
        )
        self.message_user(request, f"{done} invoice(s) marked paid.", messages.SUCCESS)

    @admin.action(
        description="Refund in full through Stripe (issues a credit note)", permissions=["change"]
    )
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        for invoice in queryset:
            before = invoice.status
            try:
                note = refunds.invoice_refund(invoice=invoice, reason="Refunded by staff")
            except ApplicationError as exc:
                self.message_user(request, f"{invoice.number}: {exc.message}", messages.ERROR)
            else:
                what = (
                    f"Refunded in full by staff: credit note {note.number} of "
                    f"{format_money(note.amount, note.currency)} (Stripe {note.stripe_refund_id})"
                )
                audit_status_change(invoice=invoice, before=before, note=what, always=True)
                self.log_change(request, invoice, what)
                self.message_user(
                    request,
                    f"{invoice.number}: credit note {note.number} issued.",
                    messages.SUCCESS,
                )

    @admin.action(
        description="Cancel (unpaid only; the services it bills end)", permissions=["change"]
    )
    def cancel(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        done = self._each(
            request, queryset, manual_payments.invoice_cancel, note="Cancelled by staff"
        )
        self.message_user(request, f"{done} invoice(s) cancelled.", messages.SUCCESS)

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Invoice],
        service: Callable[..., int],
        *,
        note: str,
    ) -> int:
        """Run a bulk action's service on each invoice: a refusal is shown and the rest go
        on; each change is audited. Returns how many invoices the service changed."""
        done = 0
        for invoice in queryset:
            before = invoice.status
            try:
                done += service(invoice=invoice)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                audit_status_change(invoice=invoice, before=before, note=note)
        return done


@admin.register(CreditNote)
class CreditNoteAdmin(RecordAdminMixin[CreditNote], admin.ModelAdmin[CreditNote]):
    list_display = ("number", "invoice", AMOUNT, "issued_on")
    search_fields = ("number", "invoice__number")
    list_select_related = ("invoice",)
    readonly_displays = {"amount": "amount_with_currency"}

    @admin.display(description="Amount")
    def amount_with_currency(self, note: CreditNote) -> str:
        return format_money(note.amount, note.currency)
