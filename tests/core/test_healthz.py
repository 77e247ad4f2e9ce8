"""/healthz: 200 when the database, Redis and a Celery worker answer; 503 naming the part."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.urls import reverse

from core.health import HEARTBEAT_KEY
from core.tasks import worker_heartbeat
from tests.helpers import free_port

pytestmark = pytest.mark.django_db

URL = reverse("core:healthz")


@pytest.fixture
def with_workers(settings) -> None:
    """Production-like: tasks go to workers, so /healthz wants their heartbeat."""
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_all_parts_up_is_200(client, with_workers):
    worker_heartbeat.apply()

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "worker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_no_worker_heartbeat_is_503(client, with_workers):
    response = client.get(URL)

    assert response.status_code == 503
    assert response.json()["worker"] == "no heartbeat"


def test_a_stale_worker_heartbeat_is_503_with_its_age(client, with_workers):
    cache.set(HEARTBEAT_KEY, time.time() - 300)

    response = client.get(URL)

    assert response.status_code == 503
    assert response.json()["worker"] == "no heartbeat for 300 s"


def test_redis_down_is_503(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = client.get(URL)

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "redis": "unavailable", "worker": "ok"}


def test_the_database_down_is_503(client, monkeypatch):
    def refused(*args: object) -> None:
        raise OperationalError("connection refused")

    # Stands in for PostgreSQL refusing connections (the other side of the network).
    monkeypatch.setattr("core.health.connection.cursor", refused)

    response = client.get(URL)

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


@pytest.fixture
def _root_logging_kept() -> Iterator[None]:
    """An in-process Celery worker sets the root logger's level (to ERROR) and handlers:
    put them back, or later tests' WARNING records vanish."""
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


def test_a_real_worker_heartbeat_makes_it_healthy(
    client,
    _root_logging_kept,
    celery_worker,  # noqa: F811
    settings,
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    worker_heartbeat.delay()

    deadline = time.monotonic() + 30
    while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.05)

    assert client.get(URL).status_code == 200
