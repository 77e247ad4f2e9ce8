from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .navigation import client_area_menu


def site(request: HttpRequest) -> dict[str, object]:
    menu = client_area_menu(request.path) if request.user.is_authenticated else []
    return {"SITE_NAME": settings.SITE_NAME, "client_menu": menu}
