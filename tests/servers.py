"""Real servers the tests start on loopback: an SMTP recorder, a redis-server of the
test's own, a `celery -A config worker` process, and pointing the Celery app at a broker.
The fixtures that run them are in tests/fixtures.py."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.db import connection


def _worker_broker_url() -> str:
    """The worker tests' broker: a Redis database of its own, apart from the cache's, on
    REDIS_URL's server, and one per pytest-xdist worker (gw0: 14, gw1: 13, gw2: 12,
    gw3: 11; pyproject's --maxprocesses=4), so parallel workers never take each other's
    tasks. NOTIFICATIONS_TEST_BROKER_URL names another one."""
    if url := os.environ.get("NOTIFICATIONS_TEST_BROKER_URL"):
        return url
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    if index > 3:
        raise RuntimeError("Worker tests have broker databases for four xdist workers.")
    return urlsplit(settings.REDIS_URL)._replace(path=f"/{14 - index}").geturl()


WORKER_BROKER_URL = _worker_broker_url()


ROOT = Path(__file__).resolve().parents[1]


CELERY = Path(sys.executable).with_name("celery")


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler that keeps every message it accepts.

    refuse_next holds SMTP replies (e.g. "451 ...") to give to the next DATA
    commands instead of accepting, to stand in for a server in trouble.
    """

    messages: list[EmailMessage] = field(default_factory=list)
    # What came over the wire, before parsing (to check how headers were encoded).
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)
    refuse_next: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        with self.lock:
            if self.refuse_next:
                return self.refuse_next.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(parsed)
            self.raw.append(envelope.original_content or envelope.content)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 60.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"Expected {count} messages, the SMTP server got {len(self.messages)}")


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: SmtpRecorder

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages


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


def drop_pooled_connections(app) -> None:
    """Forgets pooled broker connections, which still point at the previous broker.

    (app.close() would also deregister the app; this is what Celery does after a fork.)
    """
    app._after_fork()


def use_broker(app, url: str) -> Callable[[], None]:
    """Points the Celery app at a real broker (no eager mode); returns the undo."""
    previous = {
        "broker_url": app.conf.broker_url,
        "task_always_eager": app.conf.task_always_eager,
    }
    app.conf.update(broker_url=url, task_always_eager=False)
    drop_pooled_connections(app)

    def undo() -> None:
        app.conf.update(**previous)
        drop_pooled_connections(app)

    return undo


def purge(app) -> None:
    with app.connection_for_write() as connection:
        for queue in app.conf.task_queues:
            connection.default_channel.queue_purge(queue.name)
