"""Stopping Redis mid-run loses no message and delivers none twice.

The broker is a redis-server of this test's own on a free loopback port (never
the shared Redis), and the worker is a real `celery -A config worker` process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from notifications.delivery import REQUEUE_AFTER
from notifications.models import OutboxMessage, Status
from notifications.services import notify
from notifications.tasks import requeue_stuck_messages, send_message
from tests.helpers import free_port, wait_for_status
from tests.notifications.conftest import drop_pooled_connections, use_broker

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


class RedisServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: install it with 'apt-get install redis-server'.")
        self.process = subprocess.Popen(  # noqa: S603 (our own binary and arguments)
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class WorkerProcess:
    """`celery -A config worker` against the test database, the test SMTP server and our Redis."""

    def __init__(self, *, broker_url: str, smtp_port: int) -> None:
        db = connection.settings_dict
        env = os.environ | {
            # Production-like settings: tasks go through the broker, never eager.
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "PYTHONUNBUFFERED": "1",
        }
        self.lines: list[str] = []
        self.process = subprocess.Popen(  # noqa: S603 (our own binary and arguments)
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for_log(self, needle: str, start: int = 0, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, line in enumerate(self.lines[start:], start):
                if needle in line:
                    return index
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"Worker never logged {needle!r}:\n{''.join(self.lines[-40:])}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(own_redis) -> Iterator[RedisServer]:
    from config.celery import app

    undo = use_broker(app, own_redis.url)
    try:
        yield own_redis
    finally:
        undo()


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
