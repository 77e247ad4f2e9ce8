"""allauth's session activity tracking, throttled: an ordinary page view writes nothing."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.middleware import SESSION_KEY
from tests.factories import TEST_PASSWORD

WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN", "SAVEPOINT")


def _sign_in(user, ip: str = "203.0.113.7") -> Client:
    browser = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT="Firefox/140.0")
    response = browser.post(
        reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    return browser


def _statements(browser: Client, url: str, **extra) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url, **extra).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_signing_in_records_the_session_once(alice):
    browser = _sign_in(alice)
    recorded = UserSession.objects.get(user=alice)

    statements = _statements(browser, reverse("billing:services"))

    assert not [sql for sql in statements if sql.upper().startswith(WRITES)]
    assert UserSession.objects.get(pk=recorded.pk).last_seen_at == recorded.last_seen_at


def test_an_ordinary_page_view_writes_nothing_and_reads_no_session_or_user_row(alice):
    browser = _sign_in(alice)
    browser.get(reverse("core:dashboard"))

    statements = _statements(browser, reverse("billing:services"))

    assert not [sql for sql in statements if sql.upper().startswith(WRITES)]
    assert not [sql for sql in statements if "usersessions_usersession" in sql]
    assert not [sql for sql in statements if 'FROM "accounts_user"' in sql]


def test_activity_is_recorded_again_once_the_interval_has_passed(alice, settings):
    browser = _sign_in(alice)
    before = UserSession.objects.get(user=alice).last_seen_at
    session = browser.session
    tracked_at, fingerprint = session[SESSION_KEY]
    session[SESSION_KEY] = [tracked_at - settings.USERSESSIONS_ACTIVITY_INTERVAL, fingerprint]
    session.save()

    statements = _statements(browser, reverse("billing:services"))

    assert [sql for sql in statements if sql.upper().startswith("UPDATE")]
    assert UserSession.objects.get(user=alice).last_seen_at > before
    # ...and then not again until the next interval.
    statements = _statements(browser, reverse("billing:services"))
    assert not [sql for sql in statements if sql.upper().startswith(WRITES)]


def test_a_new_ip_address_is_recorded_at_once(alice):
    browser = _sign_in(alice, ip="203.0.113.7")

    browser.get(reverse("billing:services"), REMOTE_ADDR="198.51.100.9")

    assert UserSession.objects.get(user=alice).ip == "198.51.100.9"


def test_a_new_browser_on_the_same_session_is_recorded_at_once(alice):
    browser = _sign_in(alice)

    browser.get(reverse("billing:services"), HTTP_USER_AGENT="Chrome/150.0")

    assert UserSession.objects.get(user=alice).user_agent == "Chrome/150.0"


def test_behind_a_trusted_proxy_a_new_forwarded_address_is_recorded_at_once(alice, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    browser = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    browser.post(reverse("account_login"), {"login": alice.email, "password": TEST_PASSWORD})
    assert UserSession.objects.get(user=alice).ip == "203.0.113.7"

    # The same proxy, another customer address: only the header differs.
    browser.get(reverse("billing:services"), HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert UserSession.objects.get(user=alice).ip == "198.51.100.9"
