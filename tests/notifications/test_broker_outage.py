"""Stopping Redis mid-run loses no message and delivers none twice.

The broker is a redis-server of this test's own on a free loopback port (never
the shared Redis), and the worker is a real `celery -A config worker` process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.delivery import REQUEUE_AFTER
from notifications.models import OutboxMessage, Status
from notifications.services import notify
from notifications.tasks import requeue_stuck_messages, send_message
from tests.helpers import wait_for_status
from tests.servers import WorkerProcess, drop_pooled_connections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(broker, smtp_server) -> Iterator[WorkerProcess]:
    process = WorkerProcess(broker_url=broker.url, smtp_port=smtp_server.port)
    try:
        process.wait_for_log(" ready.")
        yield process
    finally:
        process.stop()


def messages_with_id(smtp_server, message_id: str) -> int:
    return sum(1 for m in smtp_server.messages if m["Message-ID"] == message_id)


def test_a_message_queued_while_redis_is_down_is_delivered_once_it_is_back(
    alice, bob, charlie, smtp_server, broker, worker, caplog
):
    from config.celery import app

    # Running normally.
    [before] = notify(user=bob, kind="welcome", context={})
    wait_for_status(before.pk, Status.SENT)

    # Redis stops mid-run; an event commits and queues a message.
    broker.stop()
    [row] = notify(user=alice, kind="welcome", context={})
    assert f"send_emails([{row.pk}],) waits for its beat sweep" in caplog.text
    assert OutboxMessage.objects.get(pk=row.pk).status == Status.QUEUED

    # Redis is back, empty: nothing of the failed publish survived anywhere.
    broker.start()
    drop_pooled_connections(app)
    worker.wait_for_log("Connected to redis", start=len(worker.lines))
    assert OutboxMessage.objects.get(pk=row.pk).status == Status.QUEUED
    assert [m["To"] for m in smtp_server.messages] == ["bob@example.com"]

    # The beat job finds the row nobody claimed and hands it over again (run
    # twice, as overlapping beats would).
    OutboxMessage.objects.filter(pk=row.pk).update(
        dispatched_at=timezone.now() - REQUEUE_AFTER - timedelta(seconds=1)
    )
    requeue_stuck_messages.delay()
    requeue_stuck_messages.delay()
    sent = wait_for_status(row.pk, Status.SENT, timeout=60)

    # A stray duplicate task after delivery: the row claim makes it a no-op.
    send_message.delay(row.pk)
    # The solo worker runs tasks in order: once this later message is out,
    # every task above has run.
    [sentinel] = notify(user=charlie, kind="welcome", context={})
    wait_for_status(sentinel.pk, Status.SENT, timeout=60)
    assert OutboxMessage.objects.get(pk=row.pk).attempts == 1
    assert messages_with_id(smtp_server, sent.provider_id) == 1
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "alice@example.com",
        "bob@example.com",
        "charlie@example.com",
    ]
