"""Database routing: reports read from a replica when there is one.

Set DATABASE_REPLICA_URL and wrap a report's reads in `reporting()`: inside, every
read goes to the "replica" database (a streaming replica of PostgreSQL, which may lag
a little behind); writes always go to "default", even for rows read from the replica.
Without DATABASE_REPLICA_URL everything stays on "default".

    from core.db import reporting

    with reporting():
        rows = list(Invoice.objects.values("currency").annotate(total=Sum("total")))
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db.models import Model

REPLICA = "replica"
_reporting: ContextVar[bool] = ContextVar("reporting", default=False)


@contextmanager
def reporting() -> Iterator[None]:
    """Reads inside the block go to the read replica, when one is configured."""
    token = _reporting.set(True)
    try:
        yield
    finally:
        _reporting.reset(token)


class ReportsReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: object) -> str | None:
        if _reporting.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model: type[Model], **hints: object) -> str:
        return "default"

    def allow_relation(self, obj1: Model, obj2: Model, **hints: object) -> bool | None:
        # The replica holds the same rows as default: relations between them are fine.
        if {obj1._state.db, obj2._state.db} <= {"default", REPLICA}:
            return True
        return None
