"""The shopping cart, kept in the session (the necessary session cookie, no other).

It holds (product, billing cycle) pairs, not prices: prices are looked up in the
display currency whenever the cart is shown or checked out.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest

from .models import BillingCycle
from .services.orders import CartLine, addons_without_plan

SESSION_KEY = "billing_cart"
TOKEN_KEY = "billing_cart_token"  # noqa: S105 - a session key, not a secret
MAX_LINES = 20


def cart_lines(request: HttpRequest) -> list[CartLine]:
    lines = []
    for raw in request.session.get(SESSION_KEY, []):
        try:
            lines.append(
                CartLine(
                    product_id=int(raw["product"]),
                    cycle=BillingCycle(raw["cycle"]),
                    domain=str(raw.get("domain", "")),
                )
            )
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
        {"product": line.product_id, "cycle": str(line.cycle), "domain": line.domain}
        for line in lines
    ]


def cart_has_domain(request: HttpRequest, domain: str) -> bool:
    return bool(domain) and any(line.domain == domain for line in cart_lines(request))


def cart_add(request: HttpRequest, lines: list[CartLine]) -> bool:
    """Adds `lines` (a plan and its add-ons) together; False, adding none, when they do
    not fit in the cart."""
    current = cart_lines(request)
    if len(current) + len(lines) > MAX_LINES:
        return False
    _store(request, [*current, *lines])
    return True


def cart_remove(request: HttpRequest, index: int, *, owned: set[int]) -> list[str]:
    """Removes line `index`, and with a plan the add-ons it leaves without a plan (an
    add-on is never sold alone; `owned` are the customer's plans, which keep theirs).
    Returns what was removed with it, said in a sentence each."""
    lines = cart_lines(request)
    if not 0 <= index < len(lines):
        return []
    del lines[index]
    orphans = addons_without_plan(lines=lines, owned=owned)
    _store(request, [line for line in lines if line.product_id not in orphans])
    return [
        f"{orphan.name} was removed too: it is sold only with {orphan.plans}."
        for orphan in orphans.values()
    ]


def cart_clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(TOKEN_KEY, None)
