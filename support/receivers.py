"""django-anymail's inbound signal: a provider delivered an email to support."""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.dispatch import receiver

from . import mail, services

logger = logging.getLogger(__name__)


@receiver(inbound, dispatch_uid="support.inbound_email")
def inbound_email(sender: object, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    try:
        services.inbound_email_receive(raw=event.message.as_bytes())
    except mail.UnreadableEmail:
        # Answered 200 all the same: the provider would only deliver it again.
        logger.warning("An inbound email from %s could not be read; it was dropped.", esp_name)
