"""The shopping cart, kept in the session (the necessary session cookie, no other).

It holds (product, billing cycle) pairs, not prices: prices are looked up in the
display currency whenever the cart is shown or checked out.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest

from .models import BillingCycle
from .services.orders import CartLine

SESSION_KEY = "billing_cart"
TOKEN_KEY = "billing_cart_token"  # noqa: S105 - a session key, not a secret
MAX_LINES = 20


def cart_lines(request: HttpRequest) -> list[CartLine]:
    lines = []
    for raw in request.session.get(SESSION_KEY, []):
        try:
            lines.append(CartLine(product_id=int(raw["product"]), cycle=BillingCycle(raw["cycle"])))
        except (KeyError, TypeError, ValueError):
            continue
    return lines


def cart_token(request: HttpRequest) -> str:
    """Names this cart's contents: it changes whenever the cart does, so an order is
    placed once per cart however often checkout is submitted."""
    return str(request.session.get(TOKEN_KEY, ""))


def _store(request: HttpRequest, lines: list[CartLine]) -> None:
    request.session[TOKEN_KEY] = secrets.token_urlsafe(24)
    request.session[SESSION_KEY] = [
        {"product": line.product_id, "cycle": str(line.cycle)} for line in lines
    ]


def cart_add(request: HttpRequest, line: CartLine) -> bool:
    """Adds a line; False when the cart is full."""
    lines = cart_lines(request)
    if len(lines) >= MAX_LINES:
        return False
    _store(request, [*lines, line])
    return True


def cart_remove(request: HttpRequest, index: int) -> None:
    lines = cart_lines(request)
    if 0 <= index < len(lines):
        del lines[index]
        _store(request, lines)


def cart_clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(TOKEN_KEY, None)
