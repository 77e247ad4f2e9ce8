"""The currency prices are shown in.

Kept in the session; also in a functional cookie, but only while the customer has
accepted the functional cookie group. An invoice never follows this choice: it
keeps the currency of its order.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .consent import functional_cookies_allowed

SESSION_KEY = "billing_currency"
COOKIE_NAME = "currency"
COOKIE_AGE = 60 * 60 * 24 * 365


def display_currency(request: HttpRequest) -> str:
    choice = request.session.get(SESSION_KEY)
    if choice in settings.BILLING_CURRENCIES:
        return choice
    if functional_cookies_allowed(request):
        cookie = request.COOKIES.get(COOKIE_NAME, "")
        if cookie in settings.BILLING_CURRENCIES:
            return cookie
    return settings.BILLING_DEFAULT_CURRENCY


def remember_currency(request: HttpRequest, response: HttpResponse, currency: str) -> None:
    request.session[SESSION_KEY] = currency
    if functional_cookies_allowed(request):
        response.set_cookie(
            COOKIE_NAME,
            currency,
            max_age=COOKIE_AGE,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    elif COOKIE_NAME in request.COOKIES:
        response.delete_cookie(COOKIE_NAME, samesite="Lax")
