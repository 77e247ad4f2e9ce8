"""Accounts' dashboard panel: how safe the customer's sign-in is."""

from __future__ import annotations

from django.http import HttpRequest

from core.dashboard import Panel, panel

from .models import User
from .selectors import user_security_summary


@panel(order=20)
def account_security(request: HttpRequest) -> Panel | None:
    """Email verified, two-factor on, signed-in sessions: 3 queries."""
    if not isinstance(request.user, User):  # the dashboard asks for a sign-in first
        return None
    return Panel(
        template="accounts/_dashboard_panel.html",
        context={"security": user_security_summary(user=request.user)},
    )
