from __future__ import annotations

import pytest

from tests.stripe_fixtures import fake_stripe, localstripe, localstripe_url  # noqa: F401


@pytest.fixture(autouse=True)
def _private_exports(settings, tmp_path):
    """Each test's export files in its own folder (the STORAGES change resets the handler)."""
    storages = {key: dict(value) for key, value in settings.STORAGES.items()}
    storages["privacy"] = {
        "BACKEND": "verification.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "exports")},
    }
    settings.STORAGES = storages
