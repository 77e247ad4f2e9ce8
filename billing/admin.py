from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.http import signed_in_user
from accounts.models import User
from core.admin import RecordAdminMixin
from core.exceptions import ApplicationError
from verification.models import RiskAssessment, RiskSubject

from .audit import audit_status_change, invoice_audit_trail
from .forms import (
    BankTransferForm,
    CreditAdjustForm,
    ManualInvoiceForm,
    ManualLineFormSet,
    MoneyAmountField,
)
from .models import (
    OPEN_DISPUTE,
    BillingAccount,
    CreditEntry,
    CreditNote,
    Invoice,
    InvoiceLine,
    Order,
    Payment,
    PaymentMethod,
    Price,
    Product,
    ProductKind,
    Service,
    ServiceStatus,
    ServiceTransition,
    StripeEvent,
    TaxRate,
)
from .money import format_money
from .services import (
    cancellations,
    credit,
    invoices,
    lifecycle,
    manual_payments,
    payments,
    refunds,
)


def _fraud_score(subject: RiskSubject) -> Subquery:
    """A row's fraud score (verification's, by our id), to annotate a list in one query."""
    scores = RiskAssessment.objects.filter(subject=subject, subject_id=OuterRef("pk"))
    return Subquery(scores.values("score")[:1])


def _fraud_score_detail(subject: RiskSubject, pk: int | None) -> SafeString | str:
    row = (
        None
        if pk is None
        else RiskAssessment.objects.filter(subject=subject, subject_id=pk).first()
    )
    if row is None:
        return "not assessed"
    reasons = format_html_join("", "<li>{}</li>", ((reason,) for reason in row.reasons))
    return format_html("{} <ul>{}</ul>", row.score, reasons or format_html("<li>no signal</li>"))


def money_column(
    field: str, description: str, *, currency: str = "currency"
) -> Callable[[Model], str]:
    """A changelist or read-only column showing `field` with its currency ("€63.47").

    `currency` is the attribute path to the ISO code ("invoice__currency" for a line).
    Every amount staff read goes through billing.money.format_money, the formatter the
    client area and the invoices use.
    """

    def show(obj: Model) -> str:
        amount = getattr(obj, field)
        if amount is None:  # an inline's blank template row
            return "-"
        code: object = obj
        for part in currency.split("__"):
            code = getattr(code, part)
        return format_money(amount, str(code))

    show.__name__ = f"money_{field}"
    return admin.display(description=description, ordering=field)(show)


PRICE = money_column("amount", "Price")
SERVICE_PRICE = money_column("amount", "Price per cycle")
SUBTOTAL = money_column("subtotal", "Subtotal")
TAX = money_column("tax_amount", "Tax")
TOTAL = money_column("total", "Total")
AMOUNT = money_column("amount", "Amount")
LINE_UNIT = money_column("unit_amount", "Unit price", currency="invoice__currency")
LINE_AMOUNT = money_column("amount", "Amount", currency="invoice__currency")
CREDIT_AMOUNT = money_column("amount", "Amount")
CREDIT_BALANCE = money_column("balance_after", "Balance after")


class PriceForm(forms.ModelForm[Price]):
    amount = MoneyAmountField(label="Price per cycle", help_text="In the price's currency: 12.50")
    setup_fee = MoneyAmountField(label="Setup fee", initial=0, help_text="Once, e.g. 10.00")

    class Meta:
        model = Price
        fields = ("currency", "cycle", "amount", "setup_fee")


class PriceInline(admin.TabularInline[Price, Product]):
    model = Price
    form = PriceForm
    extra = 1


class ProductForm(forms.ModelForm[Product]):
    class Meta:
        model = Product
        fields = (
            "name",
            "slug",
            "kind",
            "category",
            "addon_for",
            "description",
            "is_active",
            "sort_order",
            "group",
            "server_group",
            "package",
            "module_options",
            "requires_domain",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") != ProductKind.ADDON and cleaned.get("addon_for"):
            self.add_error("addon_for", "Only add-ons are sold with plans.")
        return cleaned


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    form = ProductForm
    list_display = (
        "name",
        "kind",
        "category",
        "group",
        "server_group",
        "package",
        "is_active",
        "sort_order",
    )
    list_filter = ("kind", "category", "is_active", "group", "server_group", "requires_domain")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("addon_for",)
    inlines = [PriceInline]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin[TaxRate]):
    list_display = ("country", "name", "rate", "is_eu")
    list_filter = ("is_eu",)


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin[BillingAccount]):
    list_display = ("user", "vat_number", "stripe_customer_id")
    search_fields = ("user__email", "vat_number", "stripe_customer_id")
    raw_id_fields = ("user",)


class ServiceInline(admin.TabularInline[Service, Order]):
    model = Service
    extra = 0
    fields = ("product", "cycle", "price", "status", "next_due_date")
    readonly_fields = fields
    can_delete = False
    price = staticmethod(SERVICE_PRICE)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        return super().get_queryset(request).select_related("product")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = ("pk", "user", "currency", "status", "fraud_score", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    list_select_related = ("user",)
    inlines = [ServiceInline]
    readonly_fields = ("fraud_score_reasons",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).annotate(fraud_score=_fraud_score(RiskSubject.ORDER))

    @admin.display(description="fraud score", ordering="fraud_score")
    def fraud_score(self, order: Order) -> int | None:
        return getattr(order, "fraud_score", None)

    @admin.display(description="fraud score and reasons")
    def fraud_score_reasons(self, order: Order) -> SafeString | str:
        return _fraud_score_detail(RiskSubject.ORDER, order.pk)


class ServiceTransitionInline(admin.TabularInline[ServiceTransition, Service]):
    model = ServiceTransition
    extra = 0
    fields = ("created_at", "from_status", "to_status", "actor", "job", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceTransition]:
        return super().get_queryset(request).select_related("actor")


class CancellationWaitingFilter(admin.SimpleListFilter):
    title = "cancellation"
    parameter_name = "cancellation"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("waiting", "Requested, not run yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Service]) -> QuerySet[Service]:
        if self.value() == "waiting":
            return queryset.filter(cancel_at__isnull=False, status__in=cancellations.CANCELLABLE)
        return queryset


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = (
        "pk",
        "product",
        "user",
        "status",
        "cycle",
        SERVICE_PRICE,
        "next_due_date",
        "cancel_at",
    )
    list_filter = (
        "status",
        CancellationWaitingFilter,
        ("panel_error", admin.EmptyFieldListFilter),
        "cycle",
        "product",
    )
    search_fields = ("user__email", "product__name", "domain")
    raw_id_fields = ("user", "order", "account")
    list_select_related = ("product", "user")
    date_hierarchy = "next_due_date"
    # The status moves only through the lifecycle (the actions below), each change recorded.
    readonly_fields = (
        "status",
        "activated_at",
        "suspended_at",
        "terminated_at",
        "account",
        "cancel_at",
        "cancel_when",
        "cancel_reason",
        "cancel_requested_at",
        "panel_error",
        "panel_error_at",
    )
    inlines = [ServiceTransitionInline]
    actions = ["retry_provisioning", "retry_panel_sync", "undo_cancellation"]

    @admin.action(description="Retry setting up (failed services)")
    def retry_provisioning(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        retried, staff = 0, signed_in_user(request)
        for service in queryset.filter(status=ServiceStatus.FAILED):
            retried += lifecycle.service_provision_retry(service=service, actor=staff)
        self.message_user(request, f"{retried} service(s) queued to be set up again.")

    @admin.action(description="Sync with the panel again (services whose panel call failed)")
    def retry_panel_sync(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        retried = sum(
            lifecycle.service_sync_retry(service=service, actor=signed_in_user(request))
            for service in queryset.exclude(panel_error="")
        )
        self.message_user(request, f"{retried} service(s) queued to sync with the panel again.")

    @admin.action(description="Undo the cancellation request")
    def undo_cancellation(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        staff = signed_in_user(request)
        undone = sum(
            cancellations.service_cancel_undo(service=service, actor=staff) for service in queryset
        )
        self.message_user(request, f"{undone} cancellation(s) withdrawn.")


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
        done = 0
        for invoice in queryset:
            before = invoice.status
            try:
                done += manual_payments.invoice_mark_paid_outside_stripe(invoice=invoice)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                audit_status_change(invoice=invoice, before=before, note="Marked paid by staff")
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
        done = 0
        for invoice in queryset:
            before = invoice.status
            try:
                done += manual_payments.invoice_cancel(invoice=invoice)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                audit_status_change(invoice=invoice, before=before, note="Cancelled by staff")
        self.message_user(request, f"{done} invoice(s) cancelled.", messages.SUCCESS)


@admin.register(CreditNote)
class CreditNoteAdmin(RecordAdminMixin[CreditNote], admin.ModelAdmin[CreditNote]):
    list_display = ("number", "invoice", AMOUNT, "issued_on")
    search_fields = ("number", "invoice__number")
    list_select_related = ("invoice",)
    readonly_displays = {"amount": "amount_with_currency"}

    @admin.display(description="Amount")
    def amount_with_currency(self, note: CreditNote) -> str:
        return format_money(note.amount, note.currency)


class DisputeFilter(admin.SimpleListFilter):
    """Open means disputed and not closed by Stripe (won, lost or an inquiry closed)."""

    title = "dispute"
    parameter_name = "dispute"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("open", "Open"), ("closed", "Closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payment]) -> QuerySet[Payment]:
        if self.value() == "open":
            return queryset.filter(OPEN_DISPUTE)
        if self.value() == "closed":
            return queryset.filter(dispute_closed_at__isnull=False)
        return queryset


@admin.register(Payment)
class PaymentAdmin(RecordAdminMixin[Payment], admin.ModelAdmin[Payment]):
    """The record of a charge: without it a late webhook cannot find its invoice."""

    list_display = (
        "invoice",
        "attempt",
        "status",
        AMOUNT,
        "needs_refund",
        "dispute",
        "fraud_score",
        "created_at",
    )
    list_filter = ("needs_refund", DisputeFilter, "status", "off_session")
    search_fields = ("invoice__number", "stripe_payment_intent_id")
    list_select_related = ("invoice",)
    readonly_displays = {"amount": "amount_with_currency"}
    actions = ["refund_handled"]

    @admin.display(description="Amount")
    def amount_with_currency(self, payment: Payment) -> str:
        return format_money(payment.amount, payment.currency)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        queryset = super().get_queryset(request)
        return queryset.annotate(fraud_score=_fraud_score(RiskSubject.PAYMENT))

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "fraud_score_reasons"]

    @admin.display(description="dispute")
    def dispute(self, payment: Payment) -> str:
        if payment.disputed_at is None:
            return ""
        if payment.dispute_closed_at is None:
            return f"open since {payment.disputed_at:%d %b %Y} ({payment.dispute_status})"
        return f"{payment.get_dispute_outcome_display()} on {payment.dispute_closed_at:%d %b %Y}"

    @admin.display(description="fraud score", ordering="fraud_score")
    def fraud_score(self, payment: Payment) -> int | None:
        return getattr(payment, "fraud_score", None)

    @admin.display(description="fraud score and reasons")
    def fraud_score_reasons(self, payment: Payment) -> SafeString | str:
        return _fraud_score_detail(RiskSubject.PAYMENT, payment.pk)

    @admin.action(description="Refunded in Stripe: clear “needs refund”", permissions=["change"])
    def refund_handled(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        done = payments.payment_refund_handled(payments=queryset)
        self.message_user(request, f"{done} payment(s) no longer need a refund.", messages.SUCCESS)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(RecordAdminMixin[PaymentMethod], admin.ModelAdmin[PaymentMethod]):
    """Card metadata only: there is no card number to show.

    Deleting our copy would leave the card attached (and chargeable) at Stripe; a card
    is removed by the customer or detached at Stripe.
    """

    list_display = ("user", "brand", "last4", "exp_month", "exp_year", "country", "is_default")
    list_filter = ("brand", "three_d_secure_supported")
    search_fields = ("user__email", "last4", "stripe_payment_method_id")
    list_select_related = ("user",)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin[StripeEvent]):
    list_display = ("event_id", "type", "received_at", "processed_at")
    list_filter = ("type",)
    search_fields = ("event_id",)
    readonly_fields = ("event_id", "type", "payload", "received_at", "processed_at", "error")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


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
