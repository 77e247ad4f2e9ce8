"""Support fixtures: the seeded departments, real small files, and the private storage."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from support.models import Department

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _clean_attachment_storage() -> Iterator[Path]:
    """Each test starts and ends with an empty private attachment folder."""
    root = Path(settings.SUPPORT_ATTACHMENTS_ROOT)
    shutil.rmtree(root, ignore_errors=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def stored_files() -> list[Path]:
    root = Path(settings.SUPPORT_ATTACHMENTS_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def support_department(db) -> Department:
    return Department.objects.get(slug="support")


@pytest.fixture
def privacy_department(db) -> Department:
    return Department.objects.get(slug="privacy")
