"""End to end: a real Celery worker on Redis delivers to a real SMTP server on loopback."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import OutboxMessage, Status
from notifications.services import notify
from notifications.tasks import send_message
from tests.helpers import SIGNUP, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sign_up_is_welcomed_by_a_worker_over_smtp_and_shown_in_admin(
    client, charlie, smtp_server, celery_worker, settings
):
    settings.OPERATOR_NAME = "Example Hosting Ltd"
    settings.OPERATOR_ADDRESS = "1 Server Lane, London"

    client.post(reverse("account_signup"), SIGNUP)

    row = OutboxMessage.objects.get(kind="welcome")
    wait_for_status(row.pk, Status.SENT)
    # The welcome and allauth's confirmation email both travel through the outbox.
    [message] = [m for m in smtp_server.recorder.wait_for(2) if "Welcome" in m["Subject"]]
    assert message["To"] == SIGNUP["email"]
    assert message["Subject"] == "Welcome to OnePanel"
    assert message["Message-ID"] == OutboxMessage.objects.get(pk=row.pk).provider_id
    assert message["List-Unsubscribe"] is None
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hello Nia," in text and "Example Hosting Ltd" in text
    assert "<p>Hello Nia,</p>" in html and "1 Server Lane, London" in html

    client.force_login(charlie)
    changelist = client.get(
        reverse("admin:notifications_outboxmessage_changelist"), {"kind": "welcome"}
    )
    assert [(r.recipient, r.status) for r in changelist.context["cl"].result_list] == [
        (SIGNUP["email"], Status.SENT)
    ]


def test_duplicate_tasks_for_one_row_deliver_it_once(alice, bob, smtp_server, celery_worker):
    [row] = notify(user=alice, kind="welcome", context={})  # autocommit: dispatched already
    for _ in range(4):
        send_message.delay(row.pk)
    # The solo worker takes tasks in order: once this later row is sent, every
    # duplicate before it has run and found alice's row already claimed.
    [sentinel] = notify(user=bob, kind="welcome", context={})

    wait_for_status(sentinel.pk, Status.SENT)
    assert OutboxMessage.objects.get(pk=row.pk).status == Status.SENT
    assert sorted(m["To"] for m in smtp_server.messages) == ["alice@example.com", "bob@example.com"]
    assert OutboxMessage.objects.get(pk=row.pk).attempts == 1


def test_a_marketing_email_carries_one_click_unsubscribe_that_works_without_a_session(
    alice, bob, smtp_server, celery_worker, settings
):
    from django.test import Client

    from notifications.campaigns import campaign_queue
    from notifications.models import Campaign, Preferences
    from notifications.services import preferences_update

    settings.SITE_URL = "https://panel.example.com"
    for user in (alice, bob):
        preferences_update(
            user=user,
            choices={"marketing_email": True},
            channel="preferences_page",
            ip_address=None,
        )
    bob.processing_restricted_at = bob.date_joined
    bob.save()
    campaign = Campaign.objects.create(name="Domains", subject="Half-price domains", body="Hi.")

    assert campaign_queue(campaign=campaign) == 1

    [message] = smtp_server.recorder.wait_for(1)
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Half-price domains"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://panel.example.com/unsubscribe/")
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f'href="{url}"' in html and "Unsubscribe</a>" in html
    assert f"Unsubscribe: {url}" in text

    # What a mail client does on one click (RFC 8058): a bare POST, no cookies.
    response = Client(enforce_csrf_checks=True).post(
        url.removeprefix("https://panel.example.com"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Preferences.objects.get(user=alice).marketing_email is False
