"""The currency prices are shown in.

A visitor preference through core.consent: always kept in the session, and in the
declared functional cookie "currency" only while the functional group is accepted.
An invoice never follows this choice: it keeps the currency of its order.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.consent import preference, remember_preference

COOKIE_NAME = "currency"


def display_currency(request: HttpRequest) -> str:
    choice = preference(request, COOKIE_NAME)
    if choice in settings.BILLING_CURRENCIES:
        return choice
    return settings.BILLING_DEFAULT_CURRENCY


def remember_currency(request: HttpRequest, response: HttpResponse, currency: str) -> None:
    remember_preference(request, response, name=COOKIE_NAME, value=currency)
