"""The domain a customer names for a hosting service: checked, normalised, and kept as
the IDNA A-label (what panels and DNS use), shown back in Unicode.

IDNA 2008 with UTS #46 mapping through the `idna` package (the standard library's
"idna" codec is IDNA 2003, which maps e.g. "ß" to "ss" and accepts symbols IDNA 2008
forbids).
"""

from __future__ import annotations

import re

import idna
from django.conf import settings
from django.core.exceptions import ValidationError

from .models import Service, ServiceStatus

LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
NOT_LIVE = (ServiceStatus.CANCELLED, ServiceStatus.TERMINATED)


def domain_normalize(text: str) -> str:
    """The A-label of `text` ("Bücher.Example" -> "xn--bcher-kva.example"), or
    ValidationError saying what is wrong with it."""
    value = text.strip().rstrip(".")
    if not value:
        raise ValidationError("Enter the domain for this plan, like example.com.")
    if any(mark in value for mark in ("://", "/", "@", " ", ":")):
        raise ValidationError("Enter the domain only, like example.com (no www., path or port).")
    try:
        ascii_name = idna.encode(value, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise ValidationError(f"{value} is not a valid domain name.") from None
    labels = ascii_name.split(".")
    if (
        len(ascii_name) > 253
        or len(labels) < 2
        or not all(LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValidationError(f"{value} is not a valid domain name.")
    ours = settings.PROVISIONING_DEFAULT_DOMAIN.lower().strip(".")
    if ours and (ascii_name == ours or ascii_name.endswith("." + ours)):
        raise ValidationError(f"Addresses under {ours} are ours; enter your own domain.")
    return ascii_name


def domain_unicode(ascii_name: str) -> str:
    """How a stored domain is shown: its Unicode form ("" stays "")."""
    if not ascii_name:
        return ""
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return ascii_name


def domain_in_use(ascii_name: str) -> bool:
    """Whether a live service (anything but cancelled or terminated) has this domain."""
    return Service.objects.filter(domain=ascii_name).exclude(status__in=NOT_LIVE).exists()


def domain_check(text: str) -> str:
    """domain_normalize, and refused when a live service already has the domain."""
    ascii_name = domain_normalize(text)
    if domain_in_use(ascii_name):
        raise ValidationError(f"{domain_unicode(ascii_name)} is already hosted here.")
    return ascii_name
