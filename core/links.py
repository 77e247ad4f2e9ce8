"""Links that leave the request (emails, SMS, Stripe and Twilio callbacks) use the public
address in SITE_URL, never the Host a request happened to carry."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str = "") -> str:
    """`path` (from reverse() or a request) on the public site; the site itself for ""."""
    return settings.SITE_URL.rstrip("/") + path
