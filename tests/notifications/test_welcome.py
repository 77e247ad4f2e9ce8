from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Channel, OutboxMessage, Status
from tests.helpers import SIGNUP


@pytest.mark.django_db
def test_sign_up_queues_and_sends_a_welcome_email(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), SIGNUP)

    assert response.status_code == 302
    row = OutboxMessage.objects.get(kind="welcome")
    assert (row.channel, row.recipient, row.status) == (Channel.EMAIL, SIGNUP["email"], Status.SENT)
    assert row.user.email == SIGNUP["email"]
    welcome = [m for m in mail.outbox if m.subject == "Welcome to OnePanel"]
    assert len(welcome) == 1
    assert "Hello Nia," in welcome[0].body


@pytest.mark.django_db
def test_a_failed_sign_up_sends_no_welcome(client):
    client.post(reverse("account_signup"), SIGNUP | {"phone": "12345"})

    assert not OutboxMessage.objects.exists()
