from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's IP as allauth sees it (its trusted-proxy settings apply), or None."""
    try:
        ip: str | None = get_adapter(request).get_client_ip(request)
        return ip
    except PermissionDenied:
        return None
