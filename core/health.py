"""What /healthz checks: the database, Redis (cache and broker) and a worker heartbeat."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection

HEARTBEAT_KEY = "health:worker-heartbeat"
# Beat asks a worker for a heartbeat every 30 s; none for this long means no worker runs.
HEARTBEAT_MAX_AGE = 120


def worker_heartbeat_record() -> None:
    """Called by a worker (core.tasks.worker_heartbeat): the time it last ran a task."""
    cache.set(HEARTBEAT_KEY, time.time(), timeout=HEARTBEAT_MAX_AGE * 10)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure (refused, timed out, auth) means the check fails
        return "unavailable"
    return "ok"


def redis_status() -> str:
    """Pings Redis itself: the cache fails open, so a cache read would not tell."""
    if not settings.REDIS_URL:
        return "ok"  # the embedded default: an in-process cache and eager tasks
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=0.5, socket_timeout=1
        )
        client.ping()
    except redis.RedisError:
        return "unavailable"
    return "ok"


def worker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok"  # tasks run in the web process itself
    last = cache.get(HEARTBEAT_KEY)
    if last is None:
        return "no heartbeat"
    age = int(time.time() - float(last))
    return "ok" if age <= HEARTBEAT_MAX_AGE else f"no heartbeat for {age} s"


def health_checks() -> dict[str, str]:
    return {"database": database_status(), "redis": redis_status(), "worker": worker_status()}
