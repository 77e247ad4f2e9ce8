"""Secrets a message carries (a first password): never in the outbox row's text.

The templates are rendered with a placeholder where the secret goes; the secrets
themselves are kept beside the row, encrypted (MultiFernet with
NOTIFICATIONS_ENCRYPTION_KEYS, by default the TOTP keys: the first encrypts, all
decrypt), merged into the message only as it is handed to the provider, and wiped
from the row once it is sent or has failed for good.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from django.conf import settings
from django.utils.html import escape

from accounts.crypto import make_cipher

# Letters, digits and a few marks only: it survives HTML autoescaping unchanged.
PLACEHOLDER = "[[secret:{name}]]"
PLACEHOLDER_RE = re.compile(r"\[\[secret:([a-z_]+)\]\]")
GONE = "(no longer kept: shown once in the client area)"


def placeholder(name: str) -> str:
    if not re.fullmatch(r"[a-z_]+", name):
        raise ValueError(f"Secret names are lower-case words: {name!r}")
    return PLACEHOLDER.format(name=name)


def seal(secrets: Mapping[str, str]) -> str:
    """The secrets, encrypted for the row ("" when there are none)."""
    if not secrets:
        return ""
    cipher = make_cipher(settings.NOTIFICATIONS_ENCRYPTION_KEYS)
    return cipher.encrypt(json.dumps(dict(secrets)).encode()).decode()


def unseal(token: str) -> dict[str, str]:
    if not token:
        return {}
    cipher = make_cipher(settings.NOTIFICATIONS_ENCRYPTION_KEYS)
    loaded: dict[str, str] = json.loads(cipher.decrypt(token.encode()))
    return loaded


def fill(text: str, secrets: Mapping[str, str], *, html: bool = False) -> str:
    """`text` with each placeholder replaced by its secret (escaped in HTML); a secret
    no longer kept (the row was sent or failed, then resent) becomes a short note."""

    def value(match: re.Match[str]) -> str:
        secret = secrets.get(match.group(1))
        shown = GONE if secret is None else secret
        return escape(shown) if html else shown

    return PLACEHOLDER_RE.sub(value, text)
