"""Billing's dashboard panel: services, what is due, and suggestions."""

from __future__ import annotations

from django.db.models import Count, Min, Q, Sum
from django.http import HttpRequest

from accounts.http import signed_in_user
from core.dashboard import Panel, panel

from . import selectors
from .currency import display_currency
from .models import PAYABLE_STATUSES, Invoice, Service, ServiceStatus


@panel(order=10)
def billing_summary(request: HttpRequest) -> Panel:
    """Active services, unpaid invoices by currency, and the earliest due date: 3 queries."""
    user = signed_in_user(request)
    services = Service.objects.filter(user=user).aggregate(
        active=Count("pk", filter=Q(status=ServiceStatus.ACTIVE)),
        suspended=Count("pk", filter=Q(status=ServiceStatus.SUSPENDED)),
        pending=Count("pk", filter=Q(status=ServiceStatus.PENDING)),
    )
    due = list(
        Invoice.objects.filter(user=user, status__in=PAYABLE_STATUSES)
        .values("currency")
        .annotate(count=Count("pk"), total=Sum("total"), first_due=Min("due_date"))
        .order_by("currency")
    )
    return Panel(
        template="billing/_dashboard_panel.html",
        context={
            "services": services,
            "due": due,
            "due_count": sum(row["count"] for row in due),
            "recommended": selectors.recommended_products(
                user=user, currency=display_currency(request)
            ),
            "currency": display_currency(request),
        },
    )
