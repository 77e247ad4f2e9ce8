from __future__ import annotations

import json

import pytest
from django.core import mail

from notifications import personal_data
from notifications.delivery import message_deliver
from notifications.models import Campaign, ConsentRecord, OutboxMessage, Preferences
from notifications.services import notify, preferences_update

pytestmark = pytest.mark.django_db


def test_export_holds_choices_consent_proof_and_messages(alice, bob):
    preferences_update(
        user=alice,
        choices={"marketing_email": True},
        channel="preferences_page",
        ip_address="192.0.2.5",
    )
    notify(user=alice, kind="welcome", context={})
    notify(user=bob, kind="welcome", context={})

    data = personal_data.export(alice)

    json.dumps(data)  # ready for a download as it is
    assert data["notification_preferences"]["marketing_email"] is True
    assert data["notification_preferences"]["sms_alerts"] is False
    [record] = data["consent_records"]
    assert (record["purpose"], record["granted"], record["ip_address"]) == (
        "marketing_email",
        True,
        "192.0.2.5",
    )
    [message] = data["messages"]
    assert message["recipient"] == "alice@example.com"
    assert message["subject"] == "Welcome to OnePanel"
    assert "Hello Alice," in message["body"]


def test_export_of_a_customer_without_anything(alice):
    data = personal_data.export(alice)
    assert data["consent_records"] == [] and data["messages"] == []
    assert data["notification_preferences"]["marketing_email"] is False


def test_erase_removes_alices_data_only_and_a_queued_message_is_never_sent(alice, bob, charlie):
    for user in (alice, bob):
        preferences_update(
            user=user, choices={"sms_alerts": True}, channel="preferences_page", ip_address=None
        )
    [queued] = notify(user=alice, kind="welcome", context={})
    notify(user=bob, kind="welcome", context={})
    campaign = Campaign.objects.create(name="By alice", body="x", created_by=alice)
    Campaign.objects.create(name="By charlie", body="x", created_by=charlie)

    personal_data.erase(alice)

    assert not OutboxMessage.objects.filter(user=alice).exists()
    assert not ConsentRecord.objects.filter(user=alice).exists()
    assert not Preferences.objects.filter(user=alice).exists()
    assert OutboxMessage.objects.filter(user=bob).count() == 1
    assert ConsentRecord.objects.filter(user=bob).count() == 1
    campaign.refresh_from_db()
    assert campaign.created_by is None
    assert Campaign.objects.get(name="By charlie").created_by == charlie
    assert message_deliver(message_id=queued.pk) == ""
    assert mail.outbox == []
