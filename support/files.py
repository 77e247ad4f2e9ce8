"""Attachment checks: the type is read from the content, never from the name or the sender.

PDFs by their header and trailer, images by Pillow (which parses and verifies them),
plain text by being UTF-8 without NUL bytes. The name's extension must agree with
what the content is, so a program renamed to invoice.pdf is refused, not stored.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from PIL import Image

from core.exceptions import ApplicationError

# content type -> (what customers call it, extensions a name of that type may have)
ACCEPTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "application/pdf": ("a PDF", (".pdf",)),
    "image/png": ("a PNG image", (".png",)),
    "image/jpeg": ("a JPEG image", (".jpg", ".jpeg")),
    "image/gif": ("a GIF image", (".gif",)),
    "image/webp": ("a WebP image", (".webp",)),
    "text/plain": ("a text file", (".txt", ".log")),
}
PILLOW_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
ACCEPTED_LIST = "PDF, PNG, JPEG, GIF, WebP or plain text (.txt, .log)"


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    content: bytes


def clean_filename(name: str) -> str:
    """The customer's file name without any path, safe to store and to send back."""
    base = os.path.basename(name.replace("\\", "/")).strip() or "attachment"
    stem, ext = os.path.splitext(get_valid_filename(base) or "attachment")
    return f"{stem[:120]}{ext[:10].lower()}"


def sniff(content: bytes) -> str:
    """The content type the bytes really are, or '' when they are none we accept."""
    if content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]:
        return "application/pdf"
    try:
        with Image.open(io.BytesIO(content)) as image:
            found = image.format or ""
            image.verify()
    except Exception:  # Pillow raises many kinds for what is not an image it can read
        found = ""
    if found in PILLOW_FORMATS:
        return PILLOW_FORMATS[found]
    if b"\x00" not in content:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return ""
        return "text/plain"
    return ""


def check_attachment(*, name: str, content: bytes) -> CheckedFile:
    """The file as we will store it, or ApplicationError saying why it is refused."""
    filename = clean_filename(name)
    limit = settings.SUPPORT_ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise ApplicationError(
            f"“{filename}” is {filesizeformat(len(content))}; files may be at most "
            f"{filesizeformat(limit)}."
        )
    if not content:
        raise ApplicationError(f"“{filename}” is empty.")
    content_type = sniff(content)
    if not content_type:
        raise ApplicationError(
            f"“{filename}” is not a kind of file we accept: send {ACCEPTED_LIST}."
        )
    label, extensions = ACCEPTED[content_type]
    if os.path.splitext(filename)[1] not in extensions:
        raise ApplicationError(
            f"“{filename}” is {label} by its content, but its name says otherwise: "
            f"rename it to end in {extensions[0]} and send it again."
        )
    return CheckedFile(name=filename, content_type=content_type, content=content)


def check_attachments(files: list[tuple[str, bytes]]) -> list[CheckedFile]:
    """Every file checked, or ApplicationError for the first refused (nothing is kept)."""
    limit = settings.SUPPORT_ATTACHMENTS_PER_MESSAGE
    if len(files) > limit:
        raise ApplicationError(f"Attach at most {limit} files to one message.")
    return [check_attachment(name=name, content=content) for name, content in files]
