"""The one place billing tells a customer something.

Messages go through notifications.services.notify (durable outbox, dispatched on
commit). Until that module is on main, the same three templates are sent as an
email on commit with Django's mailer, so billing's behaviour does not change when
notify lands; only this module does.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def _notify_function():
    try:
        module = importlib.import_module("notifications.services")
    except ImportError:
        return None
    return getattr(module, "notify", None)


def tell_customer(*, user: Any, kind: str, context: dict[str, Any]) -> None:
    """Queues the `kind` message (billing/templates/notifications/email/<kind>-*) to `user`."""
    if user is None or not user.email:
        return
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    notify = _notify_function()
    if notify is not None:
        notify(user=user, kind=kind, context=context, category="transactional")
        return
    email = user.email
    name = user.full_name

    def send() -> None:
        full = {"user_name": name, **context}
        subject = render_to_string(f"notifications/email/{kind}-subject.txt", full).strip()
        body = render_to_string(f"notifications/email/{kind}-body.txt", full)
        html = render_to_string(f"notifications/email/{kind}-body.html", full)
        message = EmailMultiAlternatives(subject, body, to=[email])
        message.attach_alternative(html, "text/html")
        message.send()

    transaction.on_commit(send)
