"""core.consent's preference helpers, the API billing uses for the currency choice."""

from __future__ import annotations

from typing import cast

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory

from core.consent import ConsentRequest, ConsentState, preference, remember_preference


def visitor(accepted=(), cookies=None):
    request = cast(ConsentRequest, RequestFactory().get("/"))
    request.session = SessionStore()
    request.consent = ConsentState(chosen=True, accepted=frozenset(accepted))
    request.COOKIES.update(cookies or {})
    return request


@pytest.mark.django_db
def test_without_functional_consent_the_session_alone_keeps_the_preference():
    request = visitor(accepted={"performance"})
    response = HttpResponse()

    remember_preference(request, response, name="currency", value="EUR")

    assert "currency" not in response.cookies
    assert preference(request, "currency") == "EUR"
    # A fresh session (another visit) does not know it.
    assert preference(visitor(), "currency", "USD") == "USD"


@pytest.mark.django_db
def test_with_functional_consent_the_preference_lasts_in_a_cookie():
    request = visitor(accepted={"functional"})
    response = HttpResponse()

    remember_preference(request, response, name="currency", value="EUR")

    cookie = response.cookies["currency"]
    assert cookie.value == "EUR" and cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    later = visitor(accepted={"functional"}, cookies={"currency": "EUR"})
    assert preference(later, "currency") == "EUR"


@pytest.mark.django_db
def test_a_cookie_kept_from_before_a_withdrawal_is_ignored_and_removed():
    request = visitor(accepted=(), cookies={"currency": "GBP"})
    response = HttpResponse()

    assert preference(request, "currency", "USD") == "USD"
    remember_preference(request, response, name="currency", value="EUR")

    assert response.cookies["currency"]["max-age"] == 0
    assert preference(request, "currency") == "EUR"
