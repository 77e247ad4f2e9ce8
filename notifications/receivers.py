from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import User

from .services import notify


def send_welcome_email(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    notify(user=user, kind="welcome", context={})
