"""Reading the environment: the helpers every settings module uses.

Secrets may come from NAME or from a file named by NAME_FILE (Docker secrets);
lists are comma-separated; EMAIL_URL becomes Django's MAILERS.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEFAULT_SECRET_KEY = "insecure-embedded-default-do-not-use-in-production"  # noqa: S105


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    value: str = env.str(name, default=default)
    return value


def env_list(name: str) -> list[str]:
    return [item.strip() for item in env.str(name, default="").split(",") if item.strip()]


def mailers_from_url(url: str) -> dict[str, dict[str, Any]]:
    """Django 6.1 MAILERS from EMAIL_URL; the console when EMAIL_URL is unset.

    smtp://user:password@host:587 (plain), smtp+tls://... (STARTTLS),
    smtps://... (implicit TLS); ?timeout=10 sets the socket timeout.
    """
    if not url:
        return {"default": {"BACKEND": "core.mail.ReadableConsoleEmailBackend"}}
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not supported: use smtp, smtp+tls or smtps."
        )
    query = parse_qs(parts.query)
    options: dict[str, object] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[parts.scheme],
        "use_tls": parts.scheme == "smtp+tls",
        "use_ssl": parts.scheme == "smtps",
        "timeout": int(query.get("timeout", ["10"])[0]),
    }
    if parts.username:
        options["username"] = unquote(parts.username)
        options["password"] = unquote(parts.password or "")
    return {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    }


def fernet_keys(name: str, fallback_secret: str) -> list[str]:
    """Fernet keys from a comma-separated variable: the first encrypts, all decrypt.

    Without the variable, one key is derived from SECRET_KEY so the embedded
    default works; production settings insist on the variable.
    """
    keys = env_list(name)
    if keys:
        return keys
    digest = hashlib.sha256(f"{name}:{fallback_secret}".encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode()]
