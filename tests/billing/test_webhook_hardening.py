"""Signed Stripe events we cannot store are a 400 with the reason; the timestamp is
checked both ways; a broker outage delays work queued from a request, never loses it."""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import personal_data, tasks
from billing.models import BillingAccount, StripeCustomerDeletion, StripeEvent
from tests.helpers import deliver, event, free_port
from tests.servers import use_broker
from tests.stripe_fixtures import WEBHOOK_SECRET, signed

pytestmark = pytest.mark.django_db

URL = reverse("billing:stripe_webhook")


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (event("customer.updated", {"id": "cus_1", "balance": float("nan")}), "NaN is not"),
        (event("customer.updated", {"id": "cus_1", "name": "A\x00B"}), "A NUL character in"),
        (event("customer.updated", {"id": "cus_1", "name": "A\ud800B"}), "A lone surrogate in"),
        (event("customer.updated", {"id": "cus_1"}, event_id="evt_" + "x" * 252), "The event id"),
        (event("customer.updated", {"id": "cus_1"}) | {"id": 12345}, "The event id"),
        (event("x" * 101, {"id": "cus_1"}), "The event type"),
    ],
)
def test_a_signed_event_that_cannot_be_stored_is_a_400_with_the_reason(
    client, caplog, django_capture_on_commit_callbacks, payload, reason
):
    response = deliver(client, payload, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert reason in response.text
    assert "Signed Stripe event refused" in caplog.text
    assert not StripeEvent.objects.exists()


def test_an_event_id_of_255_characters_is_stored(client, django_capture_on_commit_callbacks):
    payload = event("customer.updated", {"id": "cus_1"}, event_id="evt_" + "x" * 251)

    assert deliver(client, payload, django_capture_on_commit_callbacks).status_code == 200
    assert StripeEvent.objects.get().event_id == payload["id"]


def test_an_event_signed_an_hour_ahead_is_refused(client, django_capture_on_commit_callbacks):
    payload = event("customer.updated", {"id": "cus_1"})

    response = deliver(
        client, payload, django_capture_on_commit_callbacks, at=int(time.time()) + 3600
    )

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_clock_a_little_ahead_is_within_the_tolerance(client, django_capture_on_commit_callbacks):
    payload = event("customer.updated", {"id": "cus_1"})

    response = deliver(
        client, payload, django_capture_on_commit_callbacks, at=int(time.time()) + 60
    )

    assert response.status_code == 200


@pytest.fixture
def broker_down() -> Iterator[None]:
    from config.celery import app

    undo = use_broker(app, f"redis://127.0.0.1:{free_port()}/0")
    try:
        yield
    finally:
        undo()


def broker_back() -> None:
    from config.celery import app

    app.conf.task_always_eager = True


def sweep_later() -> int:
    with pytest.MonkeyPatch.context() as patch:
        later = timezone.now() + datetime.timedelta(minutes=10)
        patch.setattr(tasks.timezone, "now", lambda: later)  # type: ignore[attr-defined]
        return tasks.requeue_dropped_work()


def test_with_the_broker_down_an_event_is_stored_acknowledged_and_swept_later(
    client, broker_down, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.WARNING)
    payload = event("some.unhandled_type", {"id": "x_1"})

    body, header = signed(payload)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    assert response.status_code == 200
    stored = StripeEvent.objects.get(event_id=payload["id"])
    assert stored.processed_at is None
    assert f"process_stripe_event({stored.pk},) waits for its beat sweep" in caplog.text

    broker_back()
    assert sweep_later() == 1

    stored.refresh_from_db()
    assert stored.processed_at is not None
    assert sweep_later() == 0  # type: ignore[unreachable]  # refresh_from_db() reloads it


def test_an_erasure_with_the_broker_down_deletes_the_stripe_customer_later(
    alice, broker_down, fake_stripe, django_capture_on_commit_callbacks
):
    BillingAccount.objects.create(user=alice, stripe_customer_id="cus_Erased")
    deleted = []
    fake_stripe(
        {
            ("DELETE", "/v1/customers/cus_Erased"): lambda params: (
                deleted.append(1) or 200,  # type: ignore[func-returns-value, redundant-expr]
                {"id": "cus_Erased", "object": "customer", "deleted": True},
            )
        }
    )

    with django_capture_on_commit_callbacks(execute=True):
        personal_data.erase(alice)

    assert StripeCustomerDeletion.objects.get().deleted_at is None
    assert deleted == []

    broker_back()
    assert sweep_later() == 1

    assert deleted == [1]
    assert StripeCustomerDeletion.objects.get().deleted_at is not None
    assert sweep_later() == 0
