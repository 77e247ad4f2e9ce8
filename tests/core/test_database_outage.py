"""A database that cannot be reached gives a clean 503 page, and the next request works."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import reverse


def _refuse(*args: object, **kwargs: object) -> None:
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')


@pytest.fixture
def browser(alice) -> Client:
    browser = Client(raise_request_exception=False)
    browser.force_login(alice)
    browser.get(reverse("billing:invoices"))  # the customer is in the cache now
    return browser


def test_a_page_answers_503_with_retry_after_while_the_database_is_down(browser, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "cursor", _refuse)
        response = browser.get(reverse("billing:invoices"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "We are back in a moment" in response.content.decode()


def test_the_next_request_after_the_database_is_back_is_served(browser, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "cursor", _refuse)
        assert browser.get(reverse("billing:invoices")).status_code == 503

    assert browser.get(reverse("billing:invoices")).status_code == 200


def test_any_other_error_is_still_a_500(rf):
    from core.errors import server_error

    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(rf.get("/"))

    assert response.status_code == 500
    assert "Retry-After" not in response
