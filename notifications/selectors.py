from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User

from .models import Category, Channel, ConsentRecord, OutboxMessage, Preferences


def preferences_get(*, user: User) -> Preferences:
    """The customer's current answers; an unsaved all-no row when they never answered."""
    try:
        return Preferences.objects.get(user=user)
    except Preferences.DoesNotExist:
        return Preferences(user=user)


def channel_allowed(*, user: User, preferences: Preferences, channel: str, category: str) -> bool:
    """May this customer get a message of this category on this channel now?

    Marketing needs a current consent for the channel, an active account and no
    restriction of processing. Transactional email always goes; transactional
    SMS needs SMS alerts switched on.
    """
    if channel == Channel.EMAIL and not user.email:
        return False
    if channel == Channel.SMS and not user.phone:
        return False
    if category == Category.MARKETING:
        if not user.is_active or user.processing_restricted_at is not None:
            return False
        if channel == Channel.EMAIL:
            return preferences.marketing_email
        return preferences.marketing_sms
    if channel == Channel.SMS:
        return preferences.sms_alerts
    return True


def consent_records_for(*, user: User) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(user=user).order_by("-recorded_at", "-pk")


def outbox_for(*, user: User) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(user=user).order_by("-created_at", "-pk")
