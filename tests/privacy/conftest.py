from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def announced(monkeypatch):
    """Who was told about a new version (until notifications.services.notify is on main)."""
    told = []
    monkeypatch.setattr(
        "privacy.services._announce",
        lambda *, customer, document: told.append((customer.email, document.pk)),
    )
    return told
