"""Delivering the outbox: handing rows to the broker (one batch per channel queue),
sending each row at most once, retries with backoff for transient errors, and the
beat job that re-queues rows nobody claimed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.links import absolute_url
from core.queue import enqueue

from . import emails, secrets, sms
from .errors import DeliveryError
from .models import Category, Channel, OutboxMessage, Preferences, Status
from .selectors import channel_allowed

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

    The rows are read in one query, and the consent of the batch's marketing rows in
    two more. Each row is claimed with a conditional UPDATE (queued -> sending) that
    commits before the provider is contacted, so a duplicate task, a re-queued copy
    or a second worker finds nothing to claim. The "sent" mark of one row is written
    by the same statement as the claim of the next (one statement and one commit per
    message): a worker killed in between leaves at most that one row in "sending",
    which the re-queue job fails with a reason instead of sending again, and every
    row not yet claimed still queued, which it hands to another worker. Transient
    errors put the row back in the queue with backoff; permanent ones fail it with
    the reason.
    """
    rows = OutboxMessage.objects.only(*DELIVERY_FIELDS).in_bulk(message_ids)
    allowed = _marketing_allowed(rows.values())
    statuses: dict[int, str] = {}
    sent: tuple[OutboxMessage, str] | None = None
    for message_id in message_ids:
        message = rows.get(message_id)
        if message is None or message.status != Status.QUEUED:
            continue
        claimed = _claim(message_id, after=sent)
        sent = None
        if not claimed:  # another worker's, the customer was erased, or not due yet
            continue
        message.attempts += 1
        if message.category == Category.MARKETING and message_id not in allowed:
            _finish(
                message, status=Status.CANCELLED, last_error="Consent withdrawn before sending."
            )
            statuses[message_id] = Status.CANCELLED
            continue
        status, provider_id = _attempt(message)
        if status == Status.SENT:
            sent = (message, provider_id)
        statuses[message_id] = status
    if sent is not None:
        _mark_sent(*sent)
    return statuses


# What sending a row reads of it: not its timestamps, errors or campaign.
DELIVERY_FIELDS = (
    "channel",
    "category",
    "recipient",
    "subject",
    "body_text",
    "body_html",
    "headers",
    "body_secret",
    "secrets_encrypted",
    "status",
    "attempts",
    "user_id",
)


def _marketing_allowed(rows: Iterable[OutboxMessage]) -> set[int]:
    """The marketing rows among `rows` whose customer may still get them (consent for
    the channel, an active account, no restriction): two queries for the batch, none
    when it has no marketing. Marketing always has a customer (only account emails
    may have none); without one there is no consent to send on."""
    marketing = [row for row in rows if row.category == Category.MARKETING and row.user_id]
    if not marketing:
        return set()
    user_ids = {row.user_id for row in marketing}
    users = User.objects.in_bulk(user_ids)
    answers = Preferences.objects.in_bulk(user_ids)  # keyed by user_id, its primary key
    allowed = set()
    for row in marketing:
        user = users.get(row.user_id)
        if user is not None and channel_allowed(
            user=user,
            preferences=answers.get(user.pk) or Preferences(user=user),
            channel=row.channel,
            category=row.category,
        ):
            allowed.add(row.pk)
    return allowed


def _claim(message_id: int, *, after: tuple[OutboxMessage, str] | None) -> bool:
    """Claims a queued, due row (queued -> sending, one more attempt) and, in the same
    statement, marks the previously sent row `after` sent; returns whether the claim
    succeeded. One statement in autocommit: it commits, durably, before the caller
    contacts the provider. The ORM's update() cannot say which rows it changed, and
    a row count cannot tell a failed claim from a sent row that was erased
    meanwhile, hence RETURNING."""
    now = timezone.now()
    previous, provider_id = after if after is not None else (None, "")
    params = {
        "claim": message_id,
        "sent": previous.pk if previous is not None else None,
        "now": now,
        "provider_id": provider_id[:255],
        "removed": BODY_REMOVED_NOTE,
        "queued": Status.QUEUED.value,
        "sending": Status.SENDING.value,
        "sent_status": Status.SENT.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        changed = {row[0] for row in cursor.fetchall()}
    return message_id in changed


_TABLE = OutboxMessage._meta.db_table
CLAIM_SQL = f"""
UPDATE {_TABLE} SET
    status = CASE WHEN id = %(claim)s THEN %(sending)s ELSE %(sent_status)s END,
    attempts = CASE WHEN id = %(claim)s THEN attempts + 1 ELSE attempts END,
    claimed_at = CASE WHEN id = %(claim)s THEN %(now)s ELSE claimed_at END,
    sent_at = CASE WHEN id = %(claim)s THEN sent_at ELSE %(now)s END,
    provider_id = CASE WHEN id = %(claim)s THEN provider_id ELSE %(provider_id)s END,
    last_error = CASE WHEN id = %(claim)s THEN last_error ELSE '' END,
    secrets_encrypted = CASE WHEN id = %(claim)s THEN secrets_encrypted ELSE '' END,
    body_text = CASE WHEN id <> %(claim)s AND body_secret THEN %(removed)s ELSE body_text END,
    body_html = CASE WHEN id <> %(claim)s AND body_secret THEN '' ELSE body_html END
WHERE (id = %(claim)s AND status = %(queued)s AND next_attempt_at <= %(now)s)
    OR (id = %(sent)s AND status = %(sending)s)
RETURNING id
"""  # noqa: S608 (the table name is our model's; every value is a parameter)


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
