"""The one way a request hands work to Celery: a broker outage never fails the page.

A publish the broker refuses is logged and dropped, not raised. Every caller leaves a
state in the database that a beat sweep finds (an event not yet processed, a session
whose network name was not looked up), so the work is done once the broker is back:
nothing is lost, and no customer sees a 500 because Redis is down. The notification
outbox follows the same rule (notifications.delivery.dispatch).
"""

from __future__ import annotations

import logging
from functools import partial

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(
    task: Task[..., object], *args: int | str | list[int], countdown: float | None = None
) -> bool:
    """Publishes task(*args) now; returns whether the broker took it.

    Arguments are ids (tasks load fresh state), and they are logged on a refusal, so
    they must never be personal data or secrets.
    """

    def publish() -> None:
        if countdown is None:
            task.apply_async(args)
        else:
            task.apply_async(args, countdown=countdown)

    if task.app.conf.task_always_eager:
        # In-process (embedded default, tests): the task's own errors must surface.
        publish()
        return True
    try:
        publish()
    except Exception:  # the broker's errors vary by transport; none may fail the request
        logger.warning("Broker unavailable: %s%r waits for its beat sweep.", task.name, args)
        return False
    return True


def enqueue_on_commit(task: Task[..., object], *args: int | str | list[int]) -> None:
    """enqueue() once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(partial(enqueue, task, *args))
