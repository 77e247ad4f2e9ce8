"""Billing on the staff site: the overview's business figures and the customer page's
services, orders, invoices, payments and cards (registered with core.staff)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.charts import BarChart, bar_chart
from core.dashboard import Panel
from core.staff import Column, CustomerSection, customer_section, overview_panel

from .models import (
    PAYABLE_STATUSES,
    BillingCycle,
    CreditEntry,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Service,
    ServiceStatus,
)
from .money import format_money


def _months_back(today: dt.date, count: int) -> list[dt.date]:
    """The first day of this month and the `count - 1` months before it, oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _per_currency(totals: dict[str, int]) -> list[str]:
    return [format_money(amount, currency) for currency, amount in sorted(totals.items())]


def _revenue_chart(currency: str, revenue: dict[dt.date, int]) -> BarChart:
    top = max(revenue.values(), default=0)
    return bar_chart(
        title=f"Revenue per month, last 12 months ({currency}, paid invoices)",
        points=[(f"{month:%b}", amount) for month, amount in revenue.items()],
        value_text=[format_money(amount, currency) for amount in revenue.values()],
        grid_text=[format_money(round(top * f), currency) for f in (0, 0.25, 0.5, 0.75, 1)],
    )


@overview_panel(order=10)
def business(request: HttpRequest) -> Panel:
    """Recurring revenue, revenue by month, what is owed and what is due: six queries,
    whatever the number of customers, services or invoices."""
    now = timezone.now()
    today = timezone.localdate()
    week_ago = now - dt.timedelta(days=7)

    mrr: dict[str, int] = defaultdict(int)
    for by_cycle in (
        Service.objects.filter(status=ServiceStatus.ACTIVE)
        .values("currency", "cycle")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        mrr[by_cycle["currency"]] += round(
            by_cycle["total"] / BillingCycle.months(by_cycle["cycle"])
        )

    unpaid: dict[str, int] = defaultdict(int)
    overdue: dict[str, int] = defaultdict(int)
    overdue_count = 0
    for by_status in (
        Invoice.objects.filter(status__in=PAYABLE_STATUSES)
        .values("currency", "status")
        .annotate(count=Count("pk"), total=Sum("total"))
        .order_by()
    ):
        unpaid[by_status["currency"]] += by_status["total"]
        if by_status["status"] == InvoiceStatus.OVERDUE:
            overdue[by_status["currency"]] += by_status["total"]
            overdue_count += by_status["count"]

    months = _months_back(today, 12)
    # One series per currency (amounts in different currencies never add up): the
    # default currency always, the others when they earned something in the 12 months.
    revenue: dict[str, dict[dt.date, int]] = {
        settings.BILLING_DEFAULT_CURRENCY: dict.fromkeys(months, 0)
    }
    for by_month in (
        Invoice.objects.filter(
            status=InvoiceStatus.PAID,
            paid_at__gte=dt.datetime.combine(months[0], dt.time(), tzinfo=dt.UTC),
        )
        .annotate(month=TruncMonth("paid_at"))
        .values("currency", "month")
        .annotate(total=Sum("total"))
        .order_by()
    ):
        month = by_month["month"].date()
        if month in months:
            series = revenue.setdefault(by_month["currency"], dict.fromkeys(months, 0))
            series[month] += by_month["total"]
    currencies = [
        settings.BILLING_DEFAULT_CURRENCY,
        *sorted(code for code in revenue if code != settings.BILLING_DEFAULT_CURRENCY),
    ]
    charts = [_revenue_chart(currency, revenue[currency]) for currency in currencies]
    revenue_rows = [
        (
            f"{month:%b %Y}",
            [format_money(revenue[currency][month], currency) for currency in currencies],
        )
        for month in months
    ]

    waiting = Order.objects.filter(status=OrderStatus.PENDING).count()
    failed_payments = Payment.objects.filter(
        status=PaymentStatus.FAILED, created_at__gte=week_ago
    ).count()
    renewals = Service.objects.filter(
        status=ServiceStatus.ACTIVE,
        next_due_date__gte=today,
        next_due_date__lte=today + dt.timedelta(days=7),
    ).count()

    return Panel(
        template="billing/staff/_overview.html",
        context={
            "mrr": _per_currency(mrr),
            "unpaid": _per_currency(unpaid),
            "overdue": _per_currency(overdue),
            "overdue_count": overdue_count,
            "orders_waiting": waiting,
            "failed_payments": failed_payments,
            "renewals_count": renewals,
            "charts": charts,
            "revenue_currencies": currencies,
            "revenue_rows": revenue_rows,
            "links": {
                "overdue": reverse("admin:billing_invoice_changelist") + "?status__exact=overdue",
                "unpaid": reverse("admin:billing_invoice_changelist") + "?status__exact=unpaid",
                "orders": reverse("admin:billing_order_changelist") + "?status__exact=pending",
                "payments": reverse("admin:billing_payment_changelist") + "?status__exact=failed",
                "renewals": reverse("admin:billing_service_changelist")
                + "?status__exact=active&o=6",
            },
        },
    )


def _admin(model: str) -> Callable[[Any], str]:
    return lambda obj: reverse(f"admin:billing_{model}_change", args=[obj.pk])


def _services(customer: User) -> QuerySet[Service]:
    return Service.objects.filter(user=customer).select_related("product").order_by("-created_at")


def _orders(customer: User) -> QuerySet[Order]:
    return Order.objects.filter(user=customer).order_by("-created_at", "-pk")


def _invoices(customer: User) -> QuerySet[Invoice]:
    return Invoice.objects.filter(user=customer).order_by("-year", "-sequence")


def _payments(customer: User) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(invoice__user=customer)
        .select_related("invoice")
        .order_by("-created_at", "-pk")
    )


def _cards(customer: User) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(user=customer).order_by("-is_default", "-created_at")


def _money(field: str) -> Callable[[Any], str]:
    return lambda obj: format_money(getattr(obj, field), obj.currency)


customer_section(
    CustomerSection(
        key="services",
        title="Services",
        order=20,
        rows=_services,
        admin_url=_admin("service"),
        columns=[
            Column("Service", lambda s: s.product.name, link=True),
            Column("Cycle", lambda s: s.get_cycle_display()),
            Column("Price", _money("amount")),
            Column("Status", lambda s: s.get_status_display()),
            Column("Next due", lambda s: s.next_due_date or "-"),
        ],
    )
)
customer_section(
    CustomerSection(
        key="orders",
        title="Orders",
        order=30,
        rows=_orders,
        admin_url=_admin("order"),
        columns=[
            Column("Order", lambda o: f"Order {o.pk}", link=True),
            Column("Placed", lambda o: f"{timezone.localtime(o.created_at):%d %b %Y}"),
            Column("Currency", lambda o: o.currency),
            Column("Status", lambda o: o.get_status_display()),
        ],
    )
)
customer_section(
    CustomerSection(
        key="invoices",
        title="Invoices",
        order=40,
        rows=_invoices,
        admin_url=_admin("invoice"),
        columns=[
            Column("Number", lambda i: i.number, link=True),
            Column("Issued", lambda i: i.issued_on),
            Column("Due", lambda i: i.due_date),
            Column("Total", _money("total")),
            Column("Status", lambda i: i.get_status_display()),
        ],
    )
)
customer_section(
    CustomerSection(
        key="payments",
        title="Payments",
        order=50,
        rows=_payments,
        admin_url=_admin("payment"),
        columns=[
            Column("Invoice", lambda p: p.invoice.number, link=True),
            Column("Attempt", lambda p: p.attempt),
            Column("Amount", _money("amount")),
            Column("Status", lambda p: p.get_status_display()),
            Column("When", lambda p: f"{timezone.localtime(p.created_at):%d %b %Y %H:%M}"),
        ],
    )
)
customer_section(
    CustomerSection(
        key="cards",
        title="Cards (metadata)",
        order=60,
        rows=_cards,
        admin_url=_admin("paymentmethod"),
        columns=[
            Column("Card", lambda c: f"{c.brand} •••• {c.last4}", link=True),
            Column("Expires", lambda c: f"{c.exp_month:02d}/{c.exp_year}"),
            Column("Country", lambda c: c.country),
            Column("Default", lambda c: "yes" if c.is_default else ""),
        ],
    )
)


def _credit(customer: User) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(user=customer).select_related("invoice", "actor")


def _credit_what(entry: CreditEntry) -> str:
    what = entry.get_kind_display()
    if entry.note:
        what += f": {entry.note}"
    if entry.actor is not None:
        what += f" (by {entry.actor.email})"
    return what


customer_section(
    CustomerSection(
        key="credit",
        title="Credit (balance after each entry, newest first)",
        order=45,
        rows=_credit,
        admin_url=_admin("creditentry"),
        action=lambda customer: (
            "Add or remove credit",
            reverse("admin:billing_creditentry_adjust") + f"?user={customer.pk}",
        ),
        columns=[
            Column(
                "When", lambda e: f"{timezone.localtime(e.created_at):%d %b %Y %H:%M}", link=True
            ),
            Column("What", _credit_what),
            Column("Amount", _money("amount")),
            Column("Balance", _money("balance_after")),
        ],
    )
)
