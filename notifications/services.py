"""The one way the product talks to customers: a durable outbox delivered by workers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.exceptions import ApplicationError
from core.links import absolute_url
from core.queue import enqueue

from . import emails, sms
from .errors import DeliveryError
from .models import (
    Campaign,
    Category,
    Channel,
    ConsentChannel,
    ConsentRecord,
    OutboxMessage,
    Preferences,
    Purpose,
    Status,
    TwilioCallback,
)
from .selectors import channel_allowed, preferences_get
from .tokens import make_unsubscribe_token

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A queued row nobody claimed for this long is handed to the broker again.
REQUEUE_AFTER = timedelta(minutes=2)
# A row left in "sending" this long belongs to a worker that died mid-send.
SENDING_TIMEOUT = timedelta(minutes=15)
# Rows per delivery task: one SMTP session and one read for all of them.
DELIVERY_BATCH = 50
INTERRUPTED_ERROR = (
    "The worker stopped while sending: the message may or may not have reached the "
    "recipient. Check with the provider before resending."
)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the given number of attempts: 30 s, 1 min, 2 min ... 1 h."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def unsubscribe_url(*, user_id: int, purpose: str) -> str:
    token = make_unsubscribe_token(user_id=user_id, purpose=purpose)
    return absolute_url(reverse("notifications:unsubscribe", args=[token]))


def email_message_build(
    *,
    user: User,
    kind: str,
    context: dict[str, Any],
    category: str,
    campaign: Campaign | None = None,
) -> OutboxMessage:
    """Renders an email for `user` into an unsaved outbox row (no consent check)."""
    link = ""
    if category == Category.MARKETING:
        link = unsubscribe_url(user_id=user.pk, purpose=Purpose.MARKETING_EMAIL)
    rendered = emails.render_email(user=user, kind=kind, context=context, unsubscribe_url=link)
    return OutboxMessage(
        user=user,
        channel=Channel.EMAIL,
        category=category,
        kind=kind,
        recipient=user.email,
        subject=rendered.subject[:255],
        body_text=rendered.text,
        body_html=rendered.html,
        headers=rendered.headers,
        campaign=campaign,
    )


def sms_message_build(
    *,
    user: User,
    kind: str,
    context: dict[str, Any],
    category: str,
    campaign: Campaign | None = None,
) -> OutboxMessage:
    """Renders a text message for `user` into an unsaved outbox row (no consent check)."""
    ctx = {**context, **emails.layout_context(user)}
    body = emails.render_text(f"notifications/sms/{kind}.txt", ctx).strip()
    if category == Category.MARKETING:
        body = f"{body}\nReply STOP to opt out."
    return OutboxMessage(
        user=user,
        channel=Channel.SMS,
        category=category,
        kind=kind,
        recipient=str(user.phone),
        body_text=body,
        campaign=campaign,
    )


def notify(
    *,
    user: User,
    kind: str,
    context: dict[str, Any],
    category: str = Category.TRANSACTIONAL,
    channels: Iterable[str] = (Channel.EMAIL,),
    headers: dict[str, str] | None = None,
    body_secret: bool = False,
) -> list[OutboxMessage]:
    """Queues a message of `kind` to `user` on each channel the customer allows.

    With `body_secret` (a first password, a one-time link) the body is removed from
    the row once it is sent.

    The rows are rendered now and written in the caller's transaction (a
    rolled-back caller sends nothing); they are handed to a worker when that
    transaction commits. Channels the customer has not consented to (marketing
    without consent or under a restriction of processing, SMS alerts switched
    off, no phone number) are skipped: the returned list holds the rows written.
    `headers` go on the email only (e.g. a Reply-To that threads an answer back).
    """
    if category not in Category.values:
        raise ValueError(f"Unknown category {category!r}")
    channels = list(dict.fromkeys(channels))
    unknown = set(channels) - set(Channel.values)
    if unknown:
        raise ValueError(f"Unknown channels {sorted(unknown)}")
    preferences = preferences_get(user=user)
    rows = []
    for channel in channels:
        if not channel_allowed(
            user=user, preferences=preferences, channel=channel, category=category
        ):
            continue
        build = email_message_build if channel == Channel.EMAIL else sms_message_build
        row = build(user=user, kind=kind, context=context, category=category)
        if channel == Channel.EMAIL and headers:
            row.headers = {**row.headers, **headers}
        row.body_secret = body_secret
        rows.append(row)
    if not rows:
        return []
    with transaction.atomic():
        created = OutboxMessage.objects.bulk_create(rows)
        transaction.on_commit(partial(dispatch_many, [row.pk for row in created]))
    return created


BODY_REMOVED_NOTE = "(Removed once sent: the message carried a secret link or code.)"


def email_queue(
    *,
    user: User | None,
    recipient: str,
    kind: str,
    subject: str,
    text: str,
    html: str,
    body_secret: bool,
) -> OutboxMessage:
    """Queues an email rendered elsewhere (allauth's account emails) through the outbox.

    Like notify(): written in the caller's transaction, handed to a worker on commit,
    retried with backoff and visible in the admin. No consent check: these are the
    emails an account needs (confirmation, password reset). `user` is None only for
    an address that has no account ("unknown account").
    """
    with transaction.atomic():
        row = OutboxMessage.objects.create(
            user=user,
            channel=Channel.EMAIL,
            category=Category.TRANSACTIONAL,
            kind=kind[:100],
            recipient=recipient,
            subject=subject[:255],
            body_text=text,
            body_html=html,
            body_secret=body_secret,
        )
        transaction.on_commit(partial(dispatch, row.pk))
    return row


def notify_address(
    *, email: str, kind: str, context: dict[str, Any], headers: dict[str, str] | None = None
) -> OutboxMessage:
    """Emails someone who has no account (a transactional answer to their own email).

    Rendered with the same templates and layout (`user` is None in them) into an outbox
    row without a customer, written in the caller's transaction and handed to a worker
    when it commits: durable and retried like notify().
    """
    rendered = emails.render_email(user=None, kind=kind, context=context)
    with transaction.atomic():
        row = OutboxMessage.objects.create(
            user=None,
            channel=Channel.EMAIL,
            category=Category.TRANSACTIONAL,
            kind=kind[:100],
            recipient=email,
            subject=rendered.subject[:255],
            body_text=rendered.text,
            body_html=rendered.html,
            headers={**rendered.headers, **(headers or {})},
        )
        transaction.on_commit(partial(dispatch, row.pk))
    return row


def dispatch(message_id: int, countdown: float = 0, channel: str = Channel.EMAIL) -> bool:
    """Hands a row to the broker (to run after `countdown` seconds; 0: now); returns
    whether the broker took it.

    A broker outage is logged, not raised: the row stays queued and the
    re-queue beat job hands it over again.
    """
    from .tasks import send_emails, send_texts

    task = send_texts if channel == Channel.SMS else send_emails
    return enqueue(task, [message_id], countdown=countdown)


def dispatch_many(message_ids: list[int]) -> int:
    """Hands rows to the broker in batches of DELIVERY_BATCH, emails and text messages
    apart (each task goes to its channel's queue, CELERY_TASK_ROUTES), and stops at
    the first refusal.

    Each refused publish costs the broker client's retries, so with the broker
    down a campaign would otherwise block its caller once per row; the rest
    wait, queued, for the re-queue beat job. Returns how many were handed over.
    """
    from .tasks import send_emails, send_texts

    channels = dict(OutboxMessage.objects.filter(pk__in=message_ids).values_list("pk", "channel"))
    handed = 0
    for channel, task in ((Channel.EMAIL, send_emails), (Channel.SMS, send_texts)):
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
        if message.channel == Channel.EMAIL:
            provider_id = emails.send_email(
                message_id=message.pk,
                recipient=message.recipient,
                subject=message.subject,
                text=message.body_text,
                html=message.body_html,
                headers=message.headers,
            )
        else:
            provider_id = (
                sms.get_backend()
                .send(
                    to=message.recipient,
                    body=message.body_text,
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
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=status, failed_at=timezone.now(), last_error=last_error[:2000]
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
    ).update(status=Status.FAILED, failed_at=now, last_error=INTERRUPTED_ERROR)
    return handed


@transaction.atomic
def preferences_update(
    *, user: User, choices: dict[str, bool], channel: str, ip_address: str | None
) -> list[ConsentRecord]:
    """Sets the customer's answers and records each change as proof of consent.

    Only purposes whose answer changes get a record; repeating an answer is a
    no-op. Returns the records written.
    """
    unknown = set(choices) - set(Purpose.values)
    if unknown:
        raise ValueError(f"Unknown purposes {sorted(unknown)}")
    if channel not in ConsentChannel.values:
        raise ValueError(f"Unknown consent channel {channel!r}")
    preferences, _ = Preferences.objects.select_for_update().get_or_create(user=user)
    now = timezone.now()
    records = []
    for purpose, granted in choices.items():
        if getattr(preferences, purpose) == granted:
            continue
        setattr(preferences, purpose, granted)
        records.append(
            ConsentRecord(
                user=user,
                purpose=purpose,
                granted=granted,
                channel=channel,
                ip_address=ip_address,
                recorded_at=now,
            )
        )
    if records:
        preferences.updated_at = now
        preferences.save()
        ConsentRecord.objects.bulk_create(records)
    return records


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


def marketing_audience(*, channel: str) -> QuerySet[User]:
    """Customers a marketing message on `channel` may reach now, as one query."""
    consents: dict[str, str] = {
        Channel.EMAIL: "notification_preferences__marketing_email",
        Channel.SMS: "notification_preferences__marketing_sms",
    }
    consent = consents[channel]
    audience = get_user_model().objects.filter(
        is_active=True, processing_restricted_at__isnull=True, **{consent: True}
    )
    address = "email" if channel == Channel.EMAIL else "phone"
    return audience.exclude(**{address: ""}).order_by("pk")


def campaign_queue(*, campaign: Campaign, batch_size: int = 1000) -> int:
    """Queues one outbox row per consenting, unrestricted customer; returns how many.

    A campaign is queued once: the queued_at stamp is claimed with a conditional
    update, so a double click or a second admin cannot send it twice. The rows
    are written with bulk_create in the same transaction and dispatched when it
    commits; each is rendered for its customer (name, unsubscribe link).
    """
    if campaign.channel == Channel.EMAIL and not settings.OPERATOR_ADDRESS.strip():
        # Anti-spam laws (CAN-SPAM, and the ePrivacy rules' sender identification)
        # want the sender's postal address in every marketing email.
        raise ApplicationError(
            "Set OPERATOR_ADDRESS before sending an email campaign: marketing email "
            "must show the sender's postal address."
        )
    with transaction.atomic():
        now = timezone.now()
        claimed = Campaign.objects.filter(pk=campaign.pk, queued_at__isnull=True).update(
            queued_at=now
        )
        if not claimed:
            raise ApplicationError(f"The campaign “{campaign.name}” has already been queued.")
        build = email_message_build if campaign.channel == Channel.EMAIL else sms_message_build
        rows = [
            build(
                user=user,
                kind="campaign",
                context={"campaign": campaign},
                category=Category.MARKETING,
                campaign=campaign,
            )
            for user in marketing_audience(channel=campaign.channel).iterator(chunk_size=batch_size)
        ]
        created = OutboxMessage.objects.bulk_create(rows, batch_size=batch_size)
        Campaign.objects.filter(pk=campaign.pk).update(queued_count=len(created))
        transaction.on_commit(partial(dispatch_many, [row.pk for row in created]))
    campaign.queued_at, campaign.queued_count = now, len(created)
    return len(created)


@transaction.atomic
def message_resend(*, message: OutboxMessage) -> bool:
    """Puts a failed row back in the queue for a fresh series of attempts.

    Only failed rows: a sent one is never sent again. Returns whether the row
    was re-queued (False when it was not failed, e.g. a second click).
    """
    now = timezone.now()
    requeued = OutboxMessage.objects.filter(pk=message.pk, status=Status.FAILED).update(
        status=Status.QUEUED,
        attempts=0,
        next_attempt_at=now,
        dispatched_at=now,
        failed_at=None,
        claimed_at=None,
    )
    if requeued:
        transaction.on_commit(partial(dispatch, message.pk))
    return bool(requeued)
