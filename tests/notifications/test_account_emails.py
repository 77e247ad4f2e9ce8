"""allauth's emails (confirmation, reset, unknown account, account exists) use the outbox.

Delivered to a real SMTP server on loopback (aiosmtpd); with that server down, sign-up
and password reset still answer and the emails wait in the outbox for a retry.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from notifications.delivery import BODY_REMOVED_NOTE, message_deliver
from notifications.models import OutboxMessage, Status
from tests.factories import OutboxMessageFactory
from tests.helpers import SIGNUP, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_down(settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }


def test_the_sign_up_confirmation_reaches_the_smtp_server_through_the_outbox(
    client, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)

    row = OutboxMessage.objects.get(kind="allauth-email_confirmation_signup")
    assert (row.user.email, row.recipient, row.status) == (SIGNUP["email"], SIGNUP["email"], "sent")
    [message] = [m for m in smtp_server.messages if m["Message-ID"] == row.provider_id]
    assert message["To"] == SIGNUP["email"]
    assert "/accounts/confirm-email/" in message.get_body(preferencelist=("plain",)).get_content()
    # The link signs nobody in once it has gone: it is not kept on the row.
    assert row.body_text == BODY_REMOVED_NOTE
    assert "confirm-email" not in row.body_html


def test_with_smtp_down_sign_up_and_reset_answer_and_the_emails_wait_for_a_retry(
    client, settings, smtp_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signup = client.post(reverse("account_signup"), SIGNUP)
    with django_capture_on_commit_callbacks(execute=True):
        reset = client.post(reverse("account_reset_password"), {"email": SIGNUP["email"]})

    assert signup.status_code == 302
    assert reset.status_code == 302
    assert User.objects.filter(email=SIGNUP["email"]).exists()
    waiting = OutboxMessage.objects.filter(kind__startswith="allauth-").order_by("pk")
    assert [(r.kind, r.status, r.attempts) for r in waiting] == [
        ("allauth-email_confirmation_signup", Status.QUEUED, 1),
        ("allauth-password_reset_key", Status.QUEUED, 1),
    ]
    assert all("ConnectionRefusedError" in r.last_error for r in waiting)


def test_a_waiting_confirmation_goes_out_once_smtp_is_back(
    client, smtp_down, request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)
    row = OutboxMessage.objects.get(kind="allauth-email_confirmation_signup")
    smtp_server = request.getfixturevalue("smtp_server")
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())

    assert message_deliver(message_id=row.pk) == Status.SENT
    [message] = smtp_server.messages
    assert re.search(r"/accounts/confirm-email/\S+/", message.get_body(("plain",)).get_content())


def test_a_reset_for_an_unknown_address_is_queued_without_a_customer(
    client, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})

    row = OutboxMessage.objects.get(kind="allauth-unknown_account")
    assert (row.user, row.recipient, row.status) == (None, "nobody@example.com", Status.SENT)
    assert [m["To"] for m in smtp_server.messages] == ["nobody@example.com"]


def test_a_sign_up_with_a_registered_address_tells_its_owner_through_the_outbox(
    client, alice, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP | {"email": alice.email})

    row = OutboxMessage.objects.get(kind="allauth-account_already_exists")
    assert (row.user, row.status) == (alice, Status.SENT)
    [message] = smtp_server.messages
    assert message["To"] == alice.email
    assert "already" in message.get_body(("plain",)).get_content()


def test_staff_see_allauths_emails_in_the_outbox_admin(
    client, charlie, smtp_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    client.force_login(charlie)

    changelist = client.get(reverse("admin:notifications_outboxmessage_changelist"))

    assert [(r.kind, r.recipient, r.status) for r in changelist.context["cl"].result_list] == [
        ("allauth-unknown_account", "nobody@example.com", Status.QUEUED)
    ]


def test_erasing_a_customer_removes_unknown_account_emails_to_their_address(alice):
    from notifications.personal_data import erase

    OutboxMessageFactory(
        user=None,
        channel="email",
        kind="allauth-unknown_account",
        recipient="ALICE@example.com",
        body_text="x",
    )

    erase(alice)

    assert not OutboxMessage.objects.exists()
