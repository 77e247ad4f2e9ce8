"""Staff pages for payments (disputes, fraud score), saved cards and Stripe events."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from core.admin import RecordAdminMixin
from verification.models import RiskSubject

from ..models import OPEN_DISPUTE, Payment, PaymentMethod, StripeEvent
from ..money import format_money
from ..services import payments
from .columns import AMOUNT, risk_score, risk_score_detail


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
        return queryset.annotate(fraud_score=risk_score(RiskSubject.PAYMENT))

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
        return risk_score_detail(RiskSubject.PAYMENT, payment.pk)

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
