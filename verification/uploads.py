"""What an uploaded picture must be before it is stored.

The type is decided by the bytes, never by the file name or the browser's
Content-Type. Pictures (JPEG, PNG) are decoded and encoded again by Pillow, which
drops EXIF (GPS position, camera, time) and anything hidden in the file; a file
that goes on after the end of its picture (a polyglot: a JPEG that is also a ZIP
or a script) is refused. A PDF is kept as sent only when pypdf parses it and no
object in it runs anything (JavaScript, actions on open, launch) or carries
attachments.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

from core.exceptions import ApplicationError

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PDF_SIGNATURE = b"%PDF-"

# Keys and names of PDF objects that run something or carry files.
PDF_ACTIVE_KEYS = {
    "/JS",
    "/JavaScript",
    "/OpenAction",
    "/AA",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/Launch",
    "/RichMedia",
    "/XFA",
}
PDF_ACTIVE_NAMES = {"/JavaScript", "/Launch", "/EmbeddedFile", "/RichMedia", "/ImportData"}
PDF_MAX_OBJECTS = 20_000
PDF_MAX_PAGES = 10


class UploadRefused(ApplicationError):
    """The file is not one we store; the message says why, in words."""


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str


def clean_upload(uploaded: UploadedFile[bytes]) -> CleanFile:
    """The bytes to store for `uploaded`, or UploadRefused."""
    limit = settings.VERIFICATION_MAX_UPLOAD_BYTES
    if uploaded.size is not None and uploaded.size > limit:
        raise UploadRefused(f"The file is larger than {_megabytes(limit)}.")
    uploaded.seek(0)
    data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(f"The file is larger than {_megabytes(limit)}.")
    if not data:
        raise UploadRefused("The file is empty.")
    if data.startswith(JPEG_SIGNATURE):
        _refuse_trailing(data, _jpeg_end(data))
        return _reencode(data, "JPEG")
    if data.startswith(PNG_SIGNATURE):
        _refuse_trailing(data, _png_end(data))
        return _reencode(data, "PNG")
    if data.startswith(PDF_SIGNATURE):
        return _checked_pdf(data)
    raise UploadRefused("Only JPEG, PNG or PDF files are accepted, and this file is none of them.")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _refuse_trailing(data: bytes, end: int) -> None:
    if data[end:].strip(b"\x00\r\n\t "):
        raise UploadRefused(
            "The file carries other data after the picture; please send a plain photo or scan."
        )


def _broken() -> UploadRefused:
    return UploadRefused("The picture is damaged or incomplete.")


def _jpeg_end(data: bytes) -> int:
    """Where the JPEG's End Of Image marker ends, walking its segments and scans."""
    i, size = 2, len(data)
    while i < size:
        if data[i] != 0xFF:
            raise _broken()
        while i < size and data[i] == 0xFF:
            i += 1
        if i >= size:
            break
        marker = data[i]
        i += 1
        if marker == 0xD9:
            return i
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if i + 2 > size:
            break
        segment_end = i + int.from_bytes(data[i : i + 2], "big")
        if marker != 0xDA:
            i = segment_end
            continue
        # Start of scan: entropy-coded data runs to the next marker that is not a
        # stuffed zero, a restart marker or fill.
        j = segment_end
        while True:
            j = data.find(b"\xff", j)
            if j < 0 or j + 1 >= size:
                raise _broken()
            following = data[j + 1]
            if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                j += 1
                continue
            break
        i = j
    raise _broken()


def _png_end(data: bytes) -> int:
    """Where the PNG's IEND chunk ends."""
    i, size = len(PNG_SIGNATURE), len(data)
    while i + 8 <= size:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        i += 12 + length
        if kind == b"IEND":
            return i
    raise _broken()


def _reencode(data: bytes, image_format: str) -> CleanFile:
    bomb = UploadRefused(
        "The picture has too many pixels to be a photo (a decompression bomb?); "
        "please send a smaller picture."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[image_format])
            width, height = image.size
            if width * height > settings.VERIFICATION_MAX_IMAGE_PIXELS:
                raise bomb
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise bomb from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _broken() from exc
    # Keep the picture the right way up once the orientation tag is gone.
    upright: Image.Image = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if image_format == "JPEG":
        upright.convert("RGB").save(out, format="JPEG", quality=90)
        return CleanFile(content=out.getvalue(), content_type="image/jpeg")
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA")
    upright.save(out, format="PNG")
    return CleanFile(content=out.getvalue(), content_type="image/png")


def _checked_pdf(data: bytes) -> CleanFile:
    if not data.rstrip(b"\x00\r\n\t ").endswith(b"%%EOF"):
        raise UploadRefused("The PDF is incomplete, or carries other data after its end.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadRefused("The PDF is password-protected; please send it without a password.")
        if not 1 <= len(reader.pages) <= PDF_MAX_PAGES:
            raise UploadRefused(f"The PDF must have between 1 and {PDF_MAX_PAGES} pages.")
        _refuse_active_content(reader.trailer)
    except UploadRefused:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise UploadRefused("The PDF could not be read; please send a picture instead.") from exc
    return CleanFile(content=data, content_type="application/pdf")


def _refuse_active_content(root: PdfObject) -> None:
    """Walks every object reachable from the trailer (object streams included)."""
    seen: set[tuple[int, int]] = set()
    stack: list[PdfObject | None] = [root]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise UploadRefused("The PDF is too complex; please send a picture instead.")
        if isinstance(obj, DictionaryObject):
            active = PDF_ACTIVE_KEYS.intersection(obj.keys())
            if active:
                raise UploadRefused(_pdf_active_message())
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
        elif isinstance(obj, NameObject) and obj in PDF_ACTIVE_NAMES:
            raise UploadRefused(_pdf_active_message())


def _pdf_active_message() -> str:
    return (
        "The PDF contains JavaScript, actions or attached files, which we do not accept; "
        "please send a plain scan or a photo."
    )
