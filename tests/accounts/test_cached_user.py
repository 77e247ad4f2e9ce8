"""The signed-in customer comes from the cache, and every change reaches the next request."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import USER_CACHE_KEY


def _user_queries(browser: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200
    return sum('FROM "accounts_user"' in query["sql"] for query in captured.captured_queries)


def test_the_customer_is_read_from_the_database_once_then_from_the_cache(alice_client):
    assert _user_queries(alice_client, reverse("billing:services")) == 1
    assert _user_queries(alice_client, reverse("billing:services")) == 0
    assert _user_queries(alice_client, reverse("accounts:profile")) == 0


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


def test_a_deactivated_customer_is_signed_out_at_once(alice, alice_client):
    alice_client.get(reverse("billing:services"))
    alice.is_active = False
    alice.save()

    assert alice_client.get(reverse("billing:services")).status_code == 302


def test_a_deleted_customer_leaves_no_cached_copy(alice, alice_client):
    from django.core.cache import cache

    alice_client.get(reverse("billing:services"))
    key = USER_CACHE_KEY.format(pk=alice.pk)
    assert cache.get(key) is not None

    alice.delete()

    assert cache.get(key) is None
    assert alice_client.get(reverse("billing:services")).status_code == 302
