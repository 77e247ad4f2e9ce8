from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .navigation import client_area_menu


def site(request: HttpRequest) -> dict[str, object]:
    # Error pages raised before AuthenticationMiddleware ran (a disallowed Host) have no user.
    user = getattr(request, "user", None)
    menu = client_area_menu(request.path) if user is not None and user.is_authenticated else []
    # What base.html's header fragment depends on besides who is signed in.
    section = next((item.label for item in menu if item.current), "")
    return {"SITE_NAME": settings.SITE_NAME, "client_menu": menu, "client_section": section}
