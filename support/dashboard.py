"""Support's dashboard panel: the customer's open tickets."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.http import signed_in_user
from core.dashboard import Panel, panel

from . import selectors


@panel(order=20)
def open_tickets(request: HttpRequest) -> Panel:
    """Counts and the five latest open tickets: 1 query."""
    tickets, counts = selectors.open_tickets_summary(user=signed_in_user(request))
    return Panel(
        template="support/_dashboard_panel.html",
        context={"counts": counts, "tickets": tickets},
    )
