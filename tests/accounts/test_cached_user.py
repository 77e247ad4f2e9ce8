"""The signed-in customer travels in the session's cache entry (one Redis read for both),
and every change of the customer reaches the next request of every session."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import user_lift_processing_restriction, user_restrict_processing
from accounts.session_store import SessionStore
from tests.factories import TEST_PASSWORD


def _user_queries(browser: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200
    return sum('FROM "accounts_user"' in query["sql"] for query in captured.captured_queries)


def _entry_holds_a_copy(browser: Client) -> bool:
    store = SessionStore(browser.cookies[settings.SESSION_COOKIE_NAME].value)
    store.get(SESSION_KEY)  # reads the entry, as a request does
    return store._snapshot is not None


def test_the_customer_is_read_from_the_database_once_then_from_the_session_entry(alice_client):
    assert _user_queries(alice_client, reverse("billing:services")) == 1
    assert _entry_holds_a_copy(alice_client)
    assert _user_queries(alice_client, reverse("billing:services")) == 0
    assert _user_queries(alice_client, reverse("accounts:profile")) == 0


def test_a_signed_in_request_reads_its_session_and_customer_in_one_redis_command(
    alice_client, monkeypatch, settings
):
    settings.ROOT_URLCONF = "benchmarks.urls"  # the bench's bare view, in every middleware
    alice_client.get("/bench/ok")
    commands: list[str] = []
    execute = redis.Redis.execute_command

    def counted(client: redis.Redis, *args, **options):
        commands.append(str(args[0]))
        return execute(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    with CaptureQueriesContext(connection) as captured:
        assert alice_client.get("/bench/ok").status_code == 200

    assert commands == ["GET"]
    assert captured.captured_queries == []


def test_a_saved_profile_shows_on_the_next_page(alice, alice_client):
    alice_client.get(reverse("accounts:profile"))
    alice.full_name = "Alice Renamed"
    alice.save()

    page = alice_client.get(reverse("accounts:profile")).content.decode()

    assert 'value="Alice Renamed"' in page


def test_a_password_changed_elsewhere_signs_this_browser_out(alice, alice_client):
    alice_client.get(reverse("billing:services"))
    alice.set_password("another-long-passphrase")
    alice.save()

    response = alice_client.get(reverse("billing:services"))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_changing_the_password_here_keeps_this_browser_signed_in_and_signs_others_out(alice):
    here, elsewhere = Client(), Client()
    for browser in (here, elsewhere):
        browser.post(reverse("account_login"), {"login": alice.email, "password": TEST_PASSWORD})
        assert browser.get(reverse("billing:services")).status_code == 200

    response = here.post(
        reverse("account_change_password"),
        {
            "oldpassword": TEST_PASSWORD,
            "password1": "a-new-long-passphrase",
            "password2": "a-new-long-passphrase",
        },
    )

    assert response.status_code == 302
    # The request that changed it held the old copy (old hash): it must not keep it.
    assert here.get(reverse("billing:services")).status_code == 200
    assert here.get(reverse("billing:services")).status_code == 200
    assert elsewhere.get(reverse("billing:services")).status_code == 302


def test_a_deactivated_customer_is_signed_out_at_once(alice, alice_client):
    alice_client.get(reverse("billing:services"))
    alice.is_active = False
    alice.save()

    assert alice_client.get(reverse("billing:services")).status_code == 302


def test_staff_rights_taken_away_close_the_admin_at_once(charlie, client):
    client.force_login(charlie)
    assert client.get(reverse("admin:index")).status_code == 200
    charlie.is_staff = charlie.is_superuser = False
    charlie.save()

    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.parametrize("change", [user_restrict_processing, user_lift_processing_restriction])
def test_a_restriction_set_or_lifted_with_an_update_reaches_the_next_request(
    alice, alice_client, change
):
    if change is user_lift_processing_restriction:
        user_restrict_processing(user=alice)
    alice_client.get(reverse("billing:services"))
    assert _entry_holds_a_copy(alice_client)

    change(user=alice)

    # update() sends no signal: the service drops the copies itself.
    assert not _entry_holds_a_copy(alice_client)
    assert _user_queries(alice_client, reverse("billing:services")) == 1


def test_a_deleted_customer_leaves_no_copy_and_is_signed_out(alice, alice_client):
    alice_client.get(reverse("billing:services"))
    assert _entry_holds_a_copy(alice_client)

    alice.delete()

    assert not _entry_holds_a_copy(alice_client)
    assert alice_client.get(reverse("billing:services")).status_code == 302


def test_every_session_of_the_customer_reads_the_change(alice):
    browsers = [Client(), Client(), Client()]
    for browser in browsers:
        browser.force_login(alice)
        browser.get(reverse("billing:services"))
        assert _entry_holds_a_copy(browser)

    alice.full_name = "Alice Everywhere"
    alice.save()

    for browser in browsers:
        page = browser.get(reverse("accounts:profile")).content.decode()
        assert 'value="Alice Everywhere"' in page
