"""The one way a request hands work to Celery: a broker outage never fails the page.

A publish the broker refuses is logged and dropped, not raised. Every caller leaves a
state in the database that a beat sweep finds (an event not yet processed, a session
whose network name was not looked up), so the work is done once the broker is back:
nothing is lost, and no customer sees a 500 because Redis is down. The notification
outbox follows the same rule (notifications.delivery.dispatch).

A task may be named instead of imported ("privacy.tasks.build_export"): an app's
services queue their own tasks by name, so services never import the tasks module that
calls them (no import circle; lint-imports checks it).
"""

from __future__ import annotations

import logging
from functools import partial
from importlib import import_module

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)

type TaskRef = Task[..., object] | str


def task_named(name: str) -> Task[..., object]:
    """The registered Celery task called `name` (its dotted path, Celery's default name).

    A process that has not imported the task's module yet (a web process before any
    view needed it) imports it now; an unknown name raises KeyError.
    """
    registry = current_app.tasks
    if name not in registry:
        import_module(name.rpartition(".")[0])
    return registry[name]


def enqueue(task: TaskRef, *args: int | str | list[int], countdown: float | None = None) -> bool:
    """Publishes task(*args) now; returns whether the broker took it.

    `task` is the task or its name. Arguments are ids (tasks load fresh state), and
    they are logged on a refusal, so they must never be personal data or secrets.
    """
    if isinstance(task, str):
        task = task_named(task)

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


def enqueue_on_commit(task: TaskRef, *args: int | str | list[int]) -> None:
    """enqueue() once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(partial(enqueue, task, *args))
