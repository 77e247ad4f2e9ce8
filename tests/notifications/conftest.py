"""Real parts for notification tests: an SMTP server on loopback and a Celery worker."""

from __future__ import annotations

import email
import email.policy
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from notifications import sms
from tests.helpers import free_port


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


@dataclass
class SmtpRecorder:
    """An aiosmtpd handler that keeps every message it accepts.

    refuse_next holds SMTP replies (e.g. "451 ...") to give to the next DATA
    commands instead of accepting, to stand in for a server in trouble.
    """

    messages: list[EmailMessage] = field(default_factory=list)
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


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port; the default mailer points at it."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    try:
        yield SmtpServer(host="127.0.0.1", port=port, recorder=recorder)
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def _operator_address(settings) -> None:
    """Email campaigns refuse to go out without the sender's postal address."""
    settings.OPERATOR_ADDRESS = "1 Test Street, London"


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    sms.outbox.clear()
    yield
    sms.outbox.clear()


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


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A real Celery worker (in a thread of this process) on a real Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    undo = use_broker(app, WORKER_BROKER_URL)
    purge(app)
    try:
        # No result backend to ping through: start_worker still waits until the
        # worker is consuming before it yields.
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=20
        ) as worker:
            yield worker
    finally:
        undo()
