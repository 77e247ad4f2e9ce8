"""End to end: a real Celery worker on Redis delivers to a real SMTP server on loopback."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from notifications.models import OutboxMessage, Status
from notifications.services import notify
from notifications.tasks import send_message
from tests.accounts.test_signup import SIGNUP

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_status(pk: int, status: str, timeout: float = 20.0) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = OutboxMessage.objects.get(pk=pk)
        if row.status == status:
            return row
        time.sleep(0.05)
    raise AssertionError(f"Row {pk} is {row.status}, expected {status}")


def test_a_sign_up_is_welcomed_by_a_worker_over_smtp(client, smtp_server, celery_worker, settings):
    settings.OPERATOR_NAME = "Example Hosting Ltd"
    settings.OPERATOR_ADDRESS = "1 Server Lane, London"

    client.post(reverse("account_signup"), SIGNUP)

    row = OutboxMessage.objects.get(kind="welcome")
    wait_for_status(row.pk, Status.SENT)
    [message] = [m for m in smtp_server.recorder.wait_for(1) if "Welcome" in m["Subject"]]
    assert message["To"] == SIGNUP["email"]
    assert message["Subject"] == "Welcome to OnePanel"
    assert message["Message-ID"] == OutboxMessage.objects.get(pk=row.pk).provider_id
    assert message["List-Unsubscribe"] is None
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Hello Nia," in text and "Example Hosting Ltd" in text
    assert "<p>Hello Nia,</p>" in html and "1 Server Lane, London" in html


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
