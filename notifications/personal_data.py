"""What notifications/ holds about a customer, for export and erasure (found by privacy/)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User

from .models import Campaign, ConsentRecord, OutboxMessage, Preferences

# What export and erase below reach (privacy/discovery.py checks every model is somewhere).
MODELS = (Campaign, ConsentRecord, OutboxMessage, Preferences)


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def export(user: User) -> dict[str, Any]:
    """The customer's choices, the proof of each change, and every message we sent them."""
    preferences = Preferences.objects.filter(user=user).first()
    return {
        "notification_preferences": {
            "marketing_email": bool(preferences and preferences.marketing_email),
            "marketing_sms": bool(preferences and preferences.marketing_sms),
            "sms_alerts": bool(preferences and preferences.sms_alerts),
            "updated_at": _when(preferences.updated_at) if preferences else None,
        },
        "consent_records": [
            {
                "purpose": record.purpose,
                "granted": record.granted,
                "channel": record.channel,
                "ip_address": record.ip_address,
                "recorded_at": _when(record.recorded_at),
            }
            for record in ConsentRecord.objects.filter(user=user).order_by("recorded_at", "pk")
        ],
        "messages": [
            {
                "created_at": _when(message.created_at),
                "channel": message.channel,
                "category": message.category,
                "kind": message.kind,
                "recipient": message.recipient,
                "subject": message.subject,
                "body": message.body_text,
                "status": message.status,
                "sent_at": _when(message.sent_at),
            }
            for message in OutboxMessage.objects.filter(user=user).order_by("created_at", "pk")
        ],
    }


@transaction.atomic
def erase(user: User) -> None:
    """Deletes the customer's messages (queued ones are then never sent), choices and
    consent records; a staff member's name comes off the campaigns they wrote."""
    OutboxMessage.objects.filter(user=user).delete()
    # allauth's "unknown account" emails to this address, from before the account existed.
    OutboxMessage.objects.filter(user__isnull=True, recipient__iexact=user.email).delete()
    ConsentRecord.objects.filter(user=user).delete()
    Preferences.objects.filter(user=user).delete()
    Campaign.objects.filter(created_by=user).update(created_by=None)
