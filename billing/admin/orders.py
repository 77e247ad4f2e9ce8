"""Staff pages for billing accounts and orders."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from verification.models import RiskSubject

from ..models import BillingAccount, Order, Service
from .columns import SERVICE_PRICE, risk_score, risk_score_detail


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
        return super().get_queryset(request).annotate(fraud_score=risk_score(RiskSubject.ORDER))

    @admin.display(description="fraud score", ordering="fraud_score")
    def fraud_score(self, order: Order) -> int | None:
        return getattr(order, "fraud_score", None)

    @admin.display(description="fraud score and reasons")
    def fraud_score_reasons(self, order: Order) -> SafeString | str:
        return risk_score_detail(RiskSubject.ORDER, order.pk)
