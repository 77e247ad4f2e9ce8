"""The races around the copy of the customer kept in the session's cache entry: a copy
read before a change never lands after it, and a session signed out meanwhile is never
brought back."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import USER_CACHE_SECONDS, snapshot_load
from accounts.session_store import SessionStore


def _signed_in(user) -> tuple[Client, str]:
    browser = Client()
    browser.force_login(user)
    return browser, browser.cookies[settings.SESSION_COOKIE_NAME].value


def _loaded(key: str) -> SessionStore:
    """The session as a request holds it once it has read it."""
    store = SessionStore(key)
    assert store.get(SESSION_KEY) is not None
    return store


def _copy(key: str):
    return _loaded(key)._snapshot


def _user_queries(browser: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(reverse("billing:services")).status_code == 200
    return sum('FROM "accounts_user"' in query["sql"] for query in captured.captured_queries)


def test_a_copy_read_before_a_change_is_not_kept_after_it(alice):
    browser, key = _signed_in(alice)
    store = _loaded(key)
    copy = snapshot_load(alice.pk)  # a slow request reads the row...
    assert copy is not None

    alice.full_name = "Alice Changed"  # ...another changes it...
    alice.save()
    store.user_snapshot_keep(copy)  # ...and the first tries to keep its copy

    assert _copy(key) is None
    assert 'value="Alice Changed"' in browser.get(reverse("accounts:profile")).content.decode()


def test_a_request_holding_an_old_copy_does_not_write_it_back_when_it_saves(alice):
    browser, key = _signed_in(alice)
    browser.get(reverse("billing:services"))
    store = _loaded(key)
    assert store._snapshot is not None

    alice.full_name = "Alice Changed"
    alice.save()
    store["seen"] = True
    store.save()

    assert _copy(key) is None
    page = browser.get(reverse("accounts:profile")).content.decode()
    assert 'value="Alice Changed"' in page


def test_a_session_signed_out_meanwhile_is_not_brought_back(alice):
    browser, key = _signed_in(alice)
    store = _loaded(key)
    copy = snapshot_load(alice.pk)
    assert copy is not None

    SessionStore().delete(key)  # "sign out everywhere", from another request
    store.user_snapshot_keep(copy)

    response = browser.get(reverse("billing:services"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_copy_older_than_the_bound_is_read_again(alice):
    browser, key = _signed_in(alice)
    browser.get(reverse("billing:services"))
    store = _loaded(key)
    old = store._snapshot._replace(loaded_at=time.time() - USER_CACHE_SECONDS - 1)
    store._snapshot = None
    store.user_snapshot_keep(old)
    assert _copy(key).loaded_at == old.loaded_at

    assert _user_queries(browser) == 1
    assert _user_queries(browser) == 0


def test_an_entry_written_by_another_release_is_read_from_the_database(alice):
    browser, key = _signed_in(alice)
    cache.set(KEY_PREFIX + key, {"unrelated": "format"})

    assert _user_queries(browser) == 1
    assert _copy(key) is not None
