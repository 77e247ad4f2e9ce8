from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.kept_pages import open_page_options


@pytest.fixture(autouse=True)
def _cookie_declaration_and_documents(request):
    """Browser tests run in transactional databases that are emptied after each test,
    migration data included: declare the cookie groups and the first policy versions
    again (the data migration's own function, idempotent), in one transaction: one
    commit instead of one for each of its ~30 get_or_create/update_or_create calls."""
    if "live_server" not in request.fixturenames and "page" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps
    from django.db import transaction

    migration = importlib.import_module(
        "privacy.migrations.0002_declare_cookies_and_first_documents"
    )
    with transaction.atomic():
        migration.declare(apps, None)
    from privacy.selectors import forget_cached_declaration, forget_cached_documents

    forget_cached_declaration()
    forget_cached_documents()


@pytest.fixture
def new_page(browser, live_server, kept_pages) -> Iterator[Callable[..., Any]]:
    """Opens a page as in a browser context of its own (new_page(viewport=..., ...) takes
    browser.new_context's options). With no option but the viewport it is a kept page
    (tests/browser/kept_pages.py), another one at each call; with other options, a new
    context, closed when the test ends, pass or fail. A context left open keeps its
    keep-alive sockets to the live server, and the server's request threads their
    database connections: the test database then cannot be dropped at the end of the run
    (PostgreSQL waits 5 s for them, then refuses)."""
    contexts = []

    def open_page(**options: Any) -> Any:
        if open_page_options(options):
            return kept_pages.take(options.get("viewport"))
        context = browser.new_context(base_url=live_server.url, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def no_js_page(new_page):
    """A browser with JavaScript turned off: every consent flow must still work."""
    return new_page(java_script_enabled=False)
