"""Inbound email from a provider: django-anymail's Mailgun view, signature checked."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.urls import reverse

from support.models import Attachment, Ticket
from tests.factories import UserFactory
from tests.helpers import eml

pytestmark = pytest.mark.django_db
SIGNING_KEY = "key-test-signing"


@pytest.fixture(autouse=True)
def _mailgun(settings) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


def signed(fields: dict[str, str], key: str = SIGNING_KEY) -> dict[str, str]:
    timestamp, token = "1796111997", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


def post(client, data):
    return client.post(reverse("support:inbound_mailgun"), data)


def test_a_signed_raw_mime_delivery_opens_a_ticket_with_its_files(client):
    UserFactory(email="alice@example.com")
    raw = eml("customer_with_files.eml").decode()
    response = post(
        client,
        signed({"body-mime": raw, "sender": "alice@example.com", "recipient": "support@x"}),
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.subject == "Problème de facturation – café ☕"
    assert Attachment.objects.filter(message__ticket=ticket).count() == 2


def test_a_wrong_signature_is_refused_and_nothing_is_filed(client):
    UserFactory(email="alice@example.com")
    raw = eml("customer_with_files.eml").decode()
    response = post(client, signed({"body-mime": raw}, key="someone-else"))
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_an_unconfigured_endpoint_says_so(client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": ""}
    response = post(client, signed({"body-mime": "x"}))
    assert response.status_code == 404
    assert b"not configured" in response.content
