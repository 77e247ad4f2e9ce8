"""Billing's dashboard panel: services, what is due, and suggestions."""

from __future__ import annotations

from django.db.models import Count, Min, Sum
from django.http import HttpRequest

from accounts.http import signed_in_user
from core.dashboard import Panel, panel

from . import selectors
from .currency import display_currency
from .models import PAYABLE_STATUSES, Invoice, Service, ServiceStatus

ENDED = (ServiceStatus.CANCELLED, ServiceStatus.TERMINATED)


@panel(order=10)
def billing_summary(request: HttpRequest) -> Panel:
    """Services by status, unpaid invoices by currency with the earliest due date, and
    suggestions: 2 queries (the catalogue is kept in memory, billing.catalogue)."""
    user = signed_in_user(request)
    # One row per (status, product) the customer has, however many services: the counts
    # and what the suggestions leave out both come from it.
    held = list(
        Service.objects.filter(user=user)
        .values_list("status", "product_id", "product__kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counted = {status: 0 for status in ServiceStatus.values}
    for status, _, _, count in held:
        counted[status] += count
    services = {
        "active": counted[ServiceStatus.ACTIVE],
        "suspended": counted[ServiceStatus.SUSPENDED],
        "pending": counted[ServiceStatus.PENDING],
    }
    due = list(
        Invoice.objects.filter(user=user, status__in=PAYABLE_STATUSES)
        .values("currency")
        .annotate(count=Count("pk"), total=Sum("total"), first_due=Min("due_date"))
        .order_by("currency")
    )
    currency = display_currency(request)
    owned = [(product, kind) for status, product, kind, _ in held if status not in ENDED]
    return Panel(
        template="billing/_dashboard_panel.html",
        context={
            "services": services,
            "due": due,
            "due_count": sum(row["count"] for row in due),
            "recommended": selectors.recommended_for(user=user, owned=owned, currency=currency),
            "currency": currency,
        },
    )
