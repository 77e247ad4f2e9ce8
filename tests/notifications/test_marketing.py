from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from core.exceptions import ApplicationError
from notifications.campaigns import campaign_queue
from notifications.delivery import message_deliver
from notifications.models import (
    Campaign,
    Category,
    ConsentChannel,
    OutboxMessage,
    Preferences,
    Status,
)
from notifications.services import notify, preferences_update
from notifications.tokens import read_unsubscribe_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OFFER = SimpleNamespace(subject="Half-price domains", body="All .com domains half price.")


def consent(user, **choices) -> None:
    preferences_update(
        user=user, choices=choices, channel=ConsentChannel.PREFERENCES_PAGE, ip_address="192.0.2.1"
    )


def send_offer(user) -> list[OutboxMessage]:
    return notify(
        user=user, kind="campaign", context={"campaign": OFFER}, category=Category.MARKETING
    )


def test_marketing_skips_a_customer_who_never_agreed(alice):
    assert send_offer(alice) == []
    assert not OutboxMessage.objects.exists()


def test_marketing_reaches_a_consenting_customer_with_one_click_unsubscribe(alice, settings):
    settings.SITE_URL = "https://panel.example.com"
    consent(alice, marketing_email=True)

    [row] = send_offer(alice)

    url = row.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://panel.example.com/unsubscribe/")
    assert row.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'<a href="{url}"' in row.body_html and ">Unsubscribe</a>" in row.body_html
    assert f"Unsubscribe: {url}" in row.body_text
    token = urlsplit(url).path.split("/")[2]
    request = read_unsubscribe_token(token)
    assert (request.user_id, request.purpose) == (alice.pk, "marketing_email")
    message_deliver(message_id=row.pk)
    assert mail.outbox[0].extra_headers["List-Unsubscribe"] == f"<{url}>"


def test_marketing_skips_a_customer_under_a_restriction_of_processing(alice):
    consent(alice, marketing_email=True)
    alice.processing_restricted_at = timezone.now()
    alice.save()

    assert send_offer(alice) == []


def test_marketing_skips_a_deactivated_customer(alice):
    consent(alice, marketing_email=True)
    alice.is_active = False
    alice.save()

    assert send_offer(alice) == []


def test_consent_withdrawn_after_queuing_cancels_the_message(alice):
    consent(alice, marketing_email=True)
    [row] = send_offer(alice)  # in the test transaction: not dispatched yet
    consent(alice, marketing_email=False)

    assert message_deliver(message_id=row.pk) == Status.CANCELLED
    row.refresh_from_db()
    assert row.status == Status.CANCELLED
    assert mail.outbox == []


def test_transactional_email_ignores_marketing_choices(alice):
    consent(alice, marketing_email=False)
    alice.processing_restricted_at = timezone.now()
    alice.save()

    assert len(notify(user=alice, kind="welcome", context={})) == 1


def test_every_change_is_recorded_with_time_address_and_channel(alice):
    records = preferences_update(
        user=alice,
        choices={"marketing_email": True, "sms_alerts": False},
        channel=ConsentChannel.PREFERENCES_PAGE,
        ip_address="198.51.100.7",
    )

    # sms_alerts was already off: only the change is recorded.
    [record] = records
    assert (record.purpose, record.granted, record.channel, record.ip_address) == (
        "marketing_email",
        True,
        "preferences_page",
        "198.51.100.7",
    )
    assert Preferences.objects.get(user=alice).marketing_email is True


def test_a_campaign_queues_one_row_per_consenting_unrestricted_customer(
    alice, bob, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    consent(alice, marketing_email=True)
    consent(bob, marketing_email=True)
    restricted = UserFactory(processing_restricted_at=timezone.now())
    consent(restricted, marketing_email=True)
    withdrawn = UserFactory()
    consent(withdrawn, marketing_email=True)
    consent(withdrawn, marketing_email=False)
    UserFactory.create_batch(3)  # never asked
    campaign = Campaign.objects.create(name="Spring", subject="Spring offer", body="Hello.\n\nBye.")

    with django_capture_on_commit_callbacks(execute=True):
        with django_assert_max_num_queries(8):  # set-based: not one query per customer
            assert campaign_queue(campaign=campaign) == 2

    rows = OutboxMessage.objects.filter(campaign=campaign)
    assert sorted(rows.values_list("recipient", flat=True)) == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert set(rows.values_list("status", flat=True)) == {Status.SENT}
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    assert all(m.subject == "Spring offer" for m in mail.outbox)
    assert "<p>Hello.</p>" in rows.first().body_html
    campaign.refresh_from_db()
    assert campaign.queued_count == 2


def test_a_campaign_cannot_be_queued_twice(alice):
    consent(alice, marketing_email=True)
    campaign = Campaign.objects.create(name="Once", subject="Once", body="Once.")
    campaign_queue(campaign=campaign)

    with pytest.raises(ApplicationError, match="already been queued"):
        campaign_queue(campaign=Campaign.objects.get(pk=campaign.pk))
    assert OutboxMessage.objects.filter(campaign=campaign).count() == 1


def test_an_sms_campaign_reaches_only_customers_who_agreed_to_sms_offers(alice, bob):
    from notifications import sms

    consent(alice, marketing_sms=True)
    consent(bob, marketing_email=True, sms_alerts=True)
    campaign = Campaign.objects.create(name="Texts", channel="sms", body="Offer inside.")

    assert campaign_queue(campaign=campaign) == 1
    [row] = OutboxMessage.objects.filter(campaign=campaign)
    assert row.recipient == str(alice.phone)
    assert row.body_text == "Offer inside.\nReply STOP to opt out."
    assert sms.outbox == []  # not dispatched before commit


def test_an_email_campaign_needs_the_operators_postal_address(alice, settings):
    settings.OPERATOR_ADDRESS = " "
    consent(alice, marketing_email=True)
    campaign = Campaign.objects.create(name="No address", subject="Hi", body="Hi.")

    with pytest.raises(ApplicationError, match="OPERATOR_ADDRESS"):
        campaign_queue(campaign=campaign)

    campaign.refresh_from_db()
    assert campaign.queued_at is None
    assert not OutboxMessage.objects.exists()


def test_the_embedded_default_can_send_a_demo_email_campaign(alice, settings):
    settings.OPERATOR_ADDRESS = settings.DEMO_OPERATOR_ADDRESS
    consent(alice, marketing_email=True)
    campaign = Campaign.objects.create(name="Demo", subject="Hi", body="Hi.")

    assert campaign_queue(campaign=campaign) == 1
    [row] = OutboxMessage.objects.filter(campaign=campaign)
    assert "1 Example Street" in row.body_text
