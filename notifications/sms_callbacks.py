"""Twilio's signed callbacks, each applied once: delivery reports of text messages, and
STOP/START replies that change the customer's SMS consent."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import (
    Channel,
    ConsentChannel,
    OutboxMessage,
    Purpose,
    Status,
    TwilioCallback,
)
from .services import preferences_update

logger = logging.getLogger(__name__)


STOP_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_KEYWORDS = {"START", "YES", "UNSTOP"}


def sms_reply_apply(*, phone: str, body: str) -> int:
    """Applies an inbound STOP or START to every customer with that number.

    STOP withdraws SMS alerts and SMS marketing (the carrier blocks both);
    START turns SMS alerts back on but not marketing, which needs a fresh,
    explicit opt-in. Returns how many customers changed; other words do nothing.
    """
    keyword = body.strip().upper()
    choices: dict[str, bool]
    if keyword in STOP_KEYWORDS:
        choices = {Purpose.SMS_ALERTS: False, Purpose.MARKETING_SMS: False}
    elif keyword in START_KEYWORDS:
        choices = {Purpose.SMS_ALERTS: True}
    else:
        return 0
    changed = 0
    for user in get_user_model().objects.filter(phone=phone):
        records = preferences_update(
            user=user, choices=choices, channel=ConsentChannel.SMS_REPLY, ip_address=None
        )
        changed += bool(records)
    return changed


INBOUND_EVENT = "inbound"


def twilio_callback_claim(*, message_sid: str, event: str) -> bool:
    """Records one signed Twilio callback; False when the same one was recorded before.

    Runs inside the caller's transaction: when applying the callback fails, the claim
    is rolled back with it and Twilio's retry is applied.
    """
    try:
        with transaction.atomic():
            TwilioCallback.objects.create(message_sid=message_sid, event=event)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def sms_status_receive(*, message_sid: str, status: str, error_code: str = "") -> bool:
    """Applies a delivery report once; a replay of it (same sid and status) changes nothing."""
    if not twilio_callback_claim(message_sid=message_sid, event=status):
        logger.info("Twilio report %s %s was received before; ignored.", message_sid, status)
        return False
    return sms_status_apply(provider_id=message_sid, status=status, error_code=error_code)


@transaction.atomic
def sms_reply_receive(*, message_sid: str, phone: str, body: str) -> int:
    """Applies an incoming STOP/START once; a replay of the same message changes nothing."""
    if not twilio_callback_claim(message_sid=message_sid, event=INBOUND_EVENT):
        logger.info("Twilio inbound message %s was received before; ignored.", message_sid)
        return 0
    return sms_reply_apply(phone=phone, body=body)


def sms_status_apply(*, provider_id: str, status: str, error_code: str = "") -> bool:
    """Records a delivery report from the SMS provider; returns whether a row changed.

    Reports can arrive late or out of order: a delivered row stays delivered.
    """
    rows = OutboxMessage.objects.filter(
        channel=Channel.SMS, provider_id=provider_id, status__in=[Status.SENDING, Status.SENT]
    )
    now = timezone.now()
    if status == "delivered":
        return bool(rows.update(status=Status.DELIVERED, delivered_at=now))
    if status in {"failed", "undelivered"}:
        reason = f"Twilio reported {status}" + (f" (error {error_code})" if error_code else "")
        return bool(rows.update(status=Status.FAILED, failed_at=now, last_error=reason))
    return False
