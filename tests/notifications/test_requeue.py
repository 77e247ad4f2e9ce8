from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from notifications.delivery import (
    INTERRUPTED_ERROR,
    REQUEUE_AFTER,
    SENDING_TIMEOUT,
    outbox_requeue_stuck,
)
from notifications.models import OutboxMessage, Status
from notifications.services import notify as queue_message

pytestmark = pytest.mark.django_db


def age(row: OutboxMessage, **fields: timedelta) -> None:
    now = timezone.now()
    OutboxMessage.objects.filter(pk=row.pk).update(**{k: now - v for k, v in fields.items()})


def test_the_beat_job_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-requeue-stuck"]
    assert entry["task"] == "notifications.tasks.requeue_stuck_messages"


def test_it_hands_a_forgotten_queued_row_to_a_worker(alice):
    [row] = queue_message(user=alice, kind="welcome", context={})  # never dispatched
    age(row, dispatched_at=REQUEUE_AFTER + timedelta(seconds=1))

    assert outbox_requeue_stuck() == 1

    row.refresh_from_db()
    assert row.status == Status.SENT
    assert len(mail.outbox) == 1


def test_it_leaves_rows_that_were_just_dispatched_or_wait_for_a_retry(alice):
    [fresh] = queue_message(user=alice, kind="welcome", context={})
    [later] = queue_message(user=alice, kind="welcome", context={})
    OutboxMessage.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5),
        dispatched_at=timezone.now() - timedelta(hours=1),
    )

    assert outbox_requeue_stuck() == 0
    assert mail.outbox == []


def test_running_it_twice_still_sends_once(alice):
    [row] = queue_message(user=alice, kind="welcome", context={})
    age(row, dispatched_at=REQUEUE_AFTER * 2)

    outbox_requeue_stuck()
    outbox_requeue_stuck()

    assert len(mail.outbox) == 1


@pytest.fixture
def unreachable_broker():
    """Publishing fails (nothing listens on port 1), as during a broker outage."""
    from config.celery import app

    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0")
    app._after_fork()  # type: ignore[attr-defined]  # Celery's own reset, undeclared
    yield
    app.conf.update(task_always_eager=True, broker_url=settings.CELERY_BROKER_URL)
    app._after_fork()  # type: ignore[attr-defined]  # Celery's own reset, undeclared


def test_it_uses_a_fixed_number_of_queries_for_any_number_of_rows(
    alice, django_assert_num_queries, unreachable_broker
):
    rows = [queue_message(user=alice, kind="welcome", context={})[0] for _ in range(5)]
    for row in rows:
        age(row, dispatched_at=REQUEUE_AFTER * 2)

    # select ids, mark dispatched, their channels (email and SMS go to two queues),
    # fail dead sends
    with django_assert_num_queries(4):
        assert outbox_requeue_stuck() == 0

    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.QUEUED}


def test_with_the_broker_down_it_stops_at_the_first_refusal(alice, unreachable_broker, caplog):
    from notifications.delivery import dispatch_many

    rows = [queue_message(user=alice, kind="welcome", context={})[0] for _ in range(5)]

    assert dispatch_many([row.pk for row in rows]) == 0

    assert caplog.text.count("Broker unavailable") == 1
    assert "4 more outbox rows wait for re-queue" in caplog.text


def test_a_row_a_dead_worker_left_in_sending_fails_with_a_reason_instead_of_resending(alice):
    [row] = queue_message(user=alice, kind="welcome", context={})
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=Status.SENDING, claimed_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1)
    )

    outbox_requeue_stuck()

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.last_error == INTERRUPTED_ERROR
    assert mail.outbox == []
