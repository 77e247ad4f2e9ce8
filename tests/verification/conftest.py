from __future__ import annotations

import pytest

from tests.verification.factories import CaseFactory


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Each test's documents in its own folder (the STORAGES change resets the handler)."""
    storages = {key: dict(value) for key, value in settings.STORAGES.items()}
    storages["verification"] = {
        "BACKEND": "verification.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "private")},
    }
    settings.STORAGES = storages
    return tmp_path / "private"


@pytest.fixture
def alice_case(alice):
    return CaseFactory(user=alice)
