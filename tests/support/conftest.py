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


EMAILS = Path(__file__).parent / "emails"


def eml(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


@pytest.fixture(autouse=True)
def _support_mailbox(settings) -> None:
    settings.SUPPORT_EMAIL = "support@onepanel.test"


def pipe_email(raw: bytes) -> str:
    """Runs the management command as a mail server's pipe would: the message on stdin."""
    import io
    import sys

    from django.core.management import call_command

    stdin, stdout = sys.stdin, io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        call_command("support_receive_email", stdout=stdout)
    finally:
        sys.stdin = stdin
    return stdout.getvalue()


def reply_email(
    *, to: str, subject: str, body: str, sender: str = "alice@example.com", **headers: str
) -> bytes:
    from email.message import EmailMessage
    from email.utils import make_msgid

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()
