"""Support fixtures: the seeded departments, real small files, and the private storage."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from support.models import Department


@pytest.fixture(autouse=True)
def _clean_attachment_storage() -> Iterator[Path]:
    """Each test starts and ends with an empty private attachment folder."""
    root = Path(settings.SUPPORT_ATTACHMENTS_ROOT)
    shutil.rmtree(root, ignore_errors=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def support_department(db) -> Department:
    return Department.objects.get(slug="support")


@pytest.fixture
def privacy_department(db) -> Department:
    return Department.objects.get(slug="privacy")


@pytest.fixture(autouse=True)
def _support_mailbox(settings) -> None:
    settings.SUPPORT_EMAIL = "support@onepanel.test"
