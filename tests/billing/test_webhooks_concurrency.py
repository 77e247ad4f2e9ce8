"""Stripe retries deliveries and may send them in parallel: concurrent copies of one
event, handled by a real Celery worker on Redis, still apply once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from billing.models import InvoiceStatus, Payment, PaymentStatus, StripeEvent
from notifications.models import OutboxMessage
from tests.helpers import event, payment_intent
from tests.stripe_fixtures import WEBHOOK_SECRET, signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker(settings) -> Iterator[None]:
    """A real worker thread consuming from Redis (REDIS_URL's database) instead of eager mode."""
    import celery.contrib.testing.tasks  # noqa: F401 - start_worker expects its ping task
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    previous = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    app.conf.update(broker_url=settings.REDIS_URL, task_always_eager=False)
    app._after_fork()  # type: ignore[attr-defined]  # Celery's own reset: forget pooled connections
    try:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("celery")  # type: ignore[attr-defined]  # kombu's Channel has it, StdChannel's stub not
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            yield
    finally:
        app.conf.update(**previous)
        app._after_fork()  # type: ignore[attr-defined]  # as above


@pytest.fixture
def payment(alice_invoice) -> Payment:
    return Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=alice_invoice.total,
        currency=alice_invoice.currency,
        stripe_payment_intent_id="pi_3Concurrent",
    )


def test_parallel_copies_of_an_event_are_stored_and_applied_once(payment, celery_worker, settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    body, header = signed(event("payment_intent.succeeded", payment_intent(payment, "succeeded")))
    statuses: list[int] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        try:
            start.wait()
            response = Client().post(
                reverse("billing:stripe_webhook"),
                body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=header,
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200, 200]
    assert StripeEvent.objects.count() == 1
    deadline = time.monotonic() + 20
    while not StripeEvent.objects.filter(processed_at__isnull=False).exists():
        assert time.monotonic() < deadline, "the worker never applied the event"
        time.sleep(0.05)
    payment.refresh_from_db()
    payment.invoice.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.invoice.status == InvoiceStatus.PAID
    assert OutboxMessage.objects.filter(kind="billing-invoice-paid").count() == 1
