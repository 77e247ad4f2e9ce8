"""Delivering the outbox: handing rows to the broker (one batch per channel queue),
sending each row at most once, retries with backoff for transient errors, and the
beat job that re-queues rows nobody claimed."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from core.links import absolute_url
from core.queue import enqueue

from . import emails, secrets, sms
from .errors import DeliveryError
from .models import (
    Category,
    Channel,
    OutboxMessage,
    Status,
)
from .selectors import channel_allowed, preferences_get

logger = logging.getLogger(__name__)


MAX_ATTEMPTS = 8
# A queued row nobody claimed for this long is handed to the broker again.
REQUEUE_AFTER = timedelta(minutes=2)
# A row left in "sending" this long belongs to a worker that died mid-send.
SENDING_TIMEOUT = timedelta(minutes=15)
# Rows per delivery task: one SMTP session and one read for all of them.
DELIVERY_BATCH = 50
# The delivery tasks, queued by name: notifications.tasks calls this module, never the
# other way round (core.queue.enqueue looks the task up).
SEND_EMAILS = "notifications.tasks.send_emails"
SEND_TEXTS = "notifications.tasks.send_texts"
INTERRUPTED_ERROR = (
    "The worker stopped while sending: the message may or may not have reached the "
    "recipient. Check with the provider before resending."
)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the given number of attempts: 30 s, 1 min, 2 min ... 1 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


BODY_REMOVED_NOTE = "(Removed once sent: the message carried a secret link or code.)"


def dispatch(message_id: int, countdown: float = 0, channel: str = Channel.EMAIL) -> bool:
    """Hands a row to the broker (to run after `countdown` seconds; 0: now); returns
    whether the broker took it.

    A broker outage is logged, not raised: the row stays queued and the
    re-queue beat job hands it over again.
    """
    task = SEND_TEXTS if channel == Channel.SMS else SEND_EMAILS
    return enqueue(task, [message_id], countdown=countdown)


def dispatch_many(message_ids: list[int]) -> int:
    """Hands rows to the broker in batches of DELIVERY_BATCH, emails and text messages
    apart (each task goes to its channel's queue, CELERY_TASK_ROUTES), and stops at
    the first refusal.

    Each refused publish costs the broker client's retries, so with the broker
    down a campaign would otherwise block its caller once per row; the rest
    wait, queued, for the re-queue beat job. Returns how many were handed over.
    """
    channels = dict(OutboxMessage.objects.filter(pk__in=message_ids).values_list("pk", "channel"))
    handed = 0
    for channel, task in ((Channel.EMAIL, SEND_EMAILS), (Channel.SMS, SEND_TEXTS)):
        ids = [pk for pk in message_ids if channels.get(pk) == channel]
        for start in range(0, len(ids), DELIVERY_BATCH):
            batch = ids[start : start + DELIVERY_BATCH]
            if not enqueue(task, batch):
                logger.warning(
                    "%s more outbox rows wait for re-queue", len(message_ids) - handed - 1
                )
                return handed
            handed += len(batch)
    return handed


def message_deliver(*, message_id: int) -> str:
    """Sends one outbox row at most once and returns its status afterwards ("" when
    another task had it already). See messages_deliver."""
    return messages_deliver(message_ids=[message_id]).get(message_id, "")


def messages_deliver(*, message_ids: list[int]) -> dict[int, str]:
    """Sends each of the rows at most once, in order, and returns the status of each
    row this call claimed.

    The rows are read in one query. Each is claimed with a conditional UPDATE
    (queued -> sending) that commits before the provider is contacted, so a
    duplicate task, a re-queued copy or a second worker finds nothing to claim. The
    "sent" mark of one row is written in the same transaction as the claim of the
    next (one commit per message): a worker killed in between leaves at most that
    one row in "sending", which the re-queue job fails with a reason instead of
    sending again, and every row not yet claimed still queued, which it hands to
    another worker. Transient errors put the row back in the queue with backoff;
    permanent ones fail it with the reason.
    """
    rows = OutboxMessage.objects.select_related("user").in_bulk(message_ids)
    statuses: dict[int, str] = {}
    sent: tuple[OutboxMessage, str] | None = None
    for message_id in message_ids:
        message = rows.get(message_id)
        if message is None or message.status != Status.QUEUED:
            continue
        now = timezone.now()
        with transaction.atomic():
            if sent is not None:
                _mark_sent(*sent)
                sent = None
            claimed = OutboxMessage.objects.filter(
                pk=message_id, status=Status.QUEUED, next_attempt_at__lte=now
            ).update(status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
        if not claimed:  # another worker's, the customer was erased, or not due yet
            continue
        message.attempts += 1
        status, provider_id = _attempt(message)
        if status == Status.SENT:
            sent = (message, provider_id)
        statuses[message_id] = status
    if sent is not None:
        _mark_sent(*sent)
    return statuses


def _mark_sent(message: OutboxMessage, provider_id: str) -> None:
    removed: dict[str, Any] = (
        {"body_text": BODY_REMOVED_NOTE, "body_html": ""} if message.body_secret else {}
    )
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        provider_id=provider_id[:255],
        last_error="",
        secrets_encrypted="",
        **removed,
    )


def _attempt(message: OutboxMessage) -> tuple[str, str]:
    """Hands one claimed row to its provider: (status, provider id)."""
    # Marketing always has a customer (only account emails may have none); without one
    # there is no consent to send on.
    user = message.user
    if message.category == Category.MARKETING and (
        user is None
        or not channel_allowed(
            user=user,
            preferences=preferences_get(user=user),
            channel=message.channel,
            category=message.category,
        )
    ):
        _finish(message, status=Status.CANCELLED, last_error="Consent withdrawn before sending.")
        return Status.CANCELLED, ""
    try:
        # The row's secrets join the message here only, never the row's text.
        kept = secrets.unseal(message.secrets_encrypted)
        if message.channel == Channel.EMAIL:
            provider_id = emails.send_email(
                message_id=message.pk,
                recipient=message.recipient,
                subject=message.subject,
                text=secrets.fill(message.body_text, kept),
                html=secrets.fill(message.body_html, kept, html=True),
                headers=message.headers,
            )
        else:
            provider_id = (
                sms.get_backend()
                .send(
                    to=message.recipient,
                    body=secrets.fill(message.body_text, kept),
                    status_callback=sms_status_callback(),
                )
                .provider_id
            )
    except DeliveryError as error:
        return _fail_or_retry(message, error), ""
    except Exception as error:
        # An unexpected error is treated as transient (bounded by MAX_ATTEMPTS)
        # rather than leaving the row claimed forever.
        logger.exception("Unexpected error sending outbox row %s", message.pk)
        return _fail_or_retry(message, DeliveryError(f"{type(error).__name__}: {error}")), ""
    return Status.SENT, provider_id


def sms_status_callback() -> str:
    """Where Twilio reports delivery; empty on plain-HTTP development sites."""
    url = absolute_url(reverse("notifications:twilio_status"))
    return url if url.startswith("https://") else ""


def _finish(message: OutboxMessage, *, status: str, last_error: str) -> None:
    """Failed for good (or cancelled): its secrets are wiped, a resend says so instead."""
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=status,
        failed_at=timezone.now(),
        last_error=last_error[:2000],
        secrets_encrypted="",
    )


def _fail_or_retry(message: OutboxMessage, error: DeliveryError) -> str:
    if error.permanent or message.attempts >= MAX_ATTEMPTS:
        # The reason goes on the row only: providers quote the address or number
        # they refused, and logs must not carry customers' personal data.
        logger.warning("Outbox row %s failed; the reason is on the row.", message.pk)
        _finish(message, status=Status.FAILED, last_error=error.message)
        return Status.FAILED
    delay = retry_delay(message.attempts)
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.QUEUED,
        next_attempt_at=now + delay,
        dispatched_at=now,
        last_error=error.message[:2000],
    )
    dispatch(message.pk, countdown=delay.total_seconds(), channel=message.channel)
    return Status.QUEUED


def outbox_requeue_stuck(*, batch_size: int = 1000) -> int:
    """Hands queued rows that no worker claimed back to the broker; returns how many
    the broker took.

    Set-based: one query finds the rows, one marks them dispatched. A row that
    is still waiting in the broker may be sent twice to the broker, never twice
    to the customer (message_deliver claims it). Rows a dead worker left in
    "sending" are failed with a reason instead of retried, since they may have
    been delivered already.
    """
    now = timezone.now()
    ids = list(
        OutboxMessage.objects.filter(
            status=Status.QUEUED, next_attempt_at__lte=now, dispatched_at__lte=now - REQUEUE_AFTER
        )
        .order_by("dispatched_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    handed = 0
    if ids:
        OutboxMessage.objects.filter(pk__in=ids, status=Status.QUEUED).update(dispatched_at=now)
        handed = dispatch_many(ids)
    OutboxMessage.objects.filter(
        status=Status.SENDING, claimed_at__lte=now - SENDING_TIMEOUT
    ).update(
        status=Status.FAILED, failed_at=now, last_error=INTERRUPTED_ERROR, secrets_encrypted=""
    )
    return handed
