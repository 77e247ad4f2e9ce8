"""Marketing campaigns: who a campaign may reach now (consent, not restricted, an
address on the channel), and queueing it as outbox rows in batches."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from core.exceptions import ApplicationError

from .delivery import dispatch_many
from .models import (
    Campaign,
    Category,
    Channel,
    OutboxMessage,
)
from .services import email_message_build, sms_message_build


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
