from __future__ import annotations

import importlib

import pytest


@pytest.fixture(autouse=True)
def _cookie_declaration_and_documents(request):
    """Browser tests run in transactional databases that are emptied after each test,
    migration data included: declare the cookie groups and the first policy versions
    again (the data migration's own function, idempotent)."""
    if "live_server" not in request.fixturenames and "page" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    migration = importlib.import_module(
        "privacy.migrations.0002_declare_cookies_and_first_documents"
    )
    migration.declare(apps, None)
    from privacy.selectors import forget_cached_declaration, forget_cached_documents

    forget_cached_declaration()
    forget_cached_documents()


@pytest.fixture
def no_js_page(browser, live_server):
    """A browser with JavaScript turned off: every consent flow must still work."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
