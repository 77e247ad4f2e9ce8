"""The one way the product talks to customers: a durable outbox delivered by workers.

Here: building a message from its templates, `notify` (the customer's choices
checked), queueing account emails and messages to an address, the customer's consent
choices, and staff's resend. Delivering the rows is notifications.delivery; campaigns
are notifications.campaigns; Twilio's callbacks are notifications.sms_callbacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.links import absolute_url

from . import emails
from .delivery import dispatch, dispatch_many
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
)
from .secrets import placeholder, seal
from .selectors import channel_allowed, preferences_get
from .tokens import make_unsubscribe_token


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
    secrets: Mapping[str, str] | None = None,
) -> list[OutboxMessage]:
    """Queues a message of `kind` to `user` on each channel the customer allows.

    With `body_secret` (a one-time link) the body is removed from the row once it is
    sent. `secrets` (a first password) never reach the row's text: the templates
    render a placeholder for each (`{{ password }}` and so on), the values are kept
    encrypted beside the row, merged in as it is sent and wiped afterwards
    (notifications/secrets.py).

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
    if secrets:
        context = {**context, **{name: placeholder(name) for name in secrets}}
    sealed = seal(secrets or {})
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
        row.secrets_encrypted = sealed
        rows.append(row)
    if not rows:
        return []
    with transaction.atomic():
        created = OutboxMessage.objects.bulk_create(rows)
        transaction.on_commit(partial(dispatch_many, [row.pk for row in created]))
    return created


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
