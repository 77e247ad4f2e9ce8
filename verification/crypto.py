"""Identity documents are sealed with Fernet (AES-128-CBC with HMAC-SHA256: authenticated).

DOCUMENT_ENCRYPTION_KEYS lists the keys, the first one encrypting. Each file keeps
the id of the key that sealed it, so `rotate_document_keys` knows which files to
re-encrypt and an old key can be retired once no file names it.
"""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from core.exceptions import ApplicationError


def key_id(key: str) -> str:
    """A short public name of a key (never the key itself)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def current_key_id() -> str:
    return key_id(settings.DOCUMENT_ENCRYPTION_KEYS[0])


def _all_keys() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.DOCUMENT_ENCRYPTION_KEYS])


def seal(data: bytes) -> tuple[bytes, str]:
    """`data` encrypted under the first key, and that key's id."""
    first = settings.DOCUMENT_ENCRYPTION_KEYS[0]
    return Fernet(first).encrypt(data), key_id(first)


def open_sealed(token: bytes, *, sealed_with: str) -> bytes:
    """The plain bytes; the key named by `sealed_with` first, then every other key."""
    keys = settings.DOCUMENT_ENCRYPTION_KEYS
    ordered = [k for k in keys if key_id(k) == sealed_with] + [
        k for k in keys if key_id(k) != sealed_with
    ]
    try:
        return MultiFernet([Fernet(key) for key in ordered]).decrypt(token)
    except InvalidToken as exc:
        raise ApplicationError(
            f"This document cannot be decrypted: its key ({sealed_with}) is no longer configured."
        ) from exc


def reseal(token: bytes) -> tuple[bytes, str]:
    """The same plain bytes sealed under the first key (MultiFernet.rotate)."""
    try:
        return _all_keys().rotate(token), current_key_id()
    except InvalidToken as exc:
        raise ApplicationError("A document cannot be decrypted with any configured key.") from exc
