"""Emails per second through real Celery workers and a real SMTP server on loopback.

Used by `python manage.py bench_notifications` and make bench (benchmarks/outbox.py).
It writes N outbox rows for throwaway customers, starts `celery -A config worker`
processes that send them to an aiosmtpd server of its own, and times from the first
task published to the last row marked sent. Beside it, into the same server, the
yardstick: plain smtplib sending the same messages with a new connection per message.
Everything it created is deleted after.
"""

from __future__ import annotations

import email.policy as email_policy
import logging
import multiprocessing
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from . import smtp_baseline
from .delivery import DELIVERY_BATCH
from .models import OutboxMessage, Status
from .services import email_message_build
from .tasks import send_emails

BENCH_DOMAIN = "bench.example.invalid"


@dataclass(frozen=True)
class BenchResult:
    messages: int
    workers: int
    render_seconds: float
    deliver_seconds: float
    smtp_received: int
    peak_rss_bench_mib: float
    peak_rss_worker_mib: float
    smtplib_seconds: float

    @property
    def smtplib_per_second(self) -> float:
        return self.messages / self.smtplib_seconds

    @property
    def emails_per_second(self) -> float:
        return self.messages / self.deliver_seconds

    @property
    def rendered_per_second(self) -> float:
        return self.messages / self.render_seconds


def machine() -> str:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"{os.cpu_count()} CPUs (nproc), {pages / 2**30:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


class _CountingHandler:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 (aiosmtpd API)
        with self.lock:
            self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_worker(*, queue: str, concurrency: int, smtp_port: int) -> subprocess.Popen[str]:
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    env = os.environ | {"EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(  # noqa: S603 (our own binary and arguments)
        [
            celery,
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if process.stdout is None:
        raise RuntimeError("The worker's output is not readable.")
    deadline = time.monotonic() + 60
    for line in process.stdout:
        if " ready." in line:
            # Keep draining the pipe so the worker never blocks on a full buffer.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RuntimeError("The Celery worker did not start; is the broker (REDIS_URL) up?")


def _smtplib_baseline(rows: list[OutboxMessage], port: int) -> float:
    """Seconds for plain smtplib to send the same messages, one connection each, from a
    process of its own (as the workers are: the SMTP server's thread keeps this one's)."""
    from django.core.mail import EmailMultiAlternatives

    payloads = []
    for row in rows:
        email = EmailMultiAlternatives(
            subject=row.subject,
            body=row.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.recipient],
            headers=row.headers,
        )
        if row.body_html:
            email.attach_alternative(row.body_html, "text/html")
        # Serialised as Django's SMTP backend does (email.policy.SMTP: CRLF, folded lines).
        payloads.append((row.recipient, email.message(policy=email_policy.SMTP).as_bytes()))
    with ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        return pool.submit(
            smtp_baseline.send_each_on_its_own_connection,
            payloads,
            sender=settings.DEFAULT_FROM_EMAIL,
            port=port,
        ).result()


def run(*, messages: int, concurrency: int, timeout: float = 600.0) -> BenchResult:
    from aiosmtpd.controller import Controller

    # aiosmtpd logs every SMTP command at INFO: thousands of lines.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = _CountingHandler()
    smtp_port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    queue = f"bench-notifications-{os.getpid()}"
    worker = _start_worker(queue=queue, concurrency=concurrency, smtp_port=smtp_port)
    User = get_user_model()  # noqa: N806
    try:
        users = User.objects.bulk_create(
            User(email=f"customer{i}@{BENCH_DOMAIN}", full_name=f"Bench Customer {i}")
            for i in range(min(messages, 100))
        )
        started = time.perf_counter()
        rows = [
            email_message_build(
                user=users[i % len(users)], kind="welcome", context={}, category="transactional"
            )
            for i in range(messages)
        ]
        with transaction.atomic():
            ids = [row.pk for row in OutboxMessage.objects.bulk_create(rows, batch_size=1000)]
        render_seconds = time.perf_counter() - started
        smtplib_seconds = _smtplib_baseline(rows, smtp_port)
        handler.count = 0

        started = time.perf_counter()
        # As dispatch_many does, on a queue of the benchmark's own.
        for first in range(0, len(ids), DELIVERY_BATCH):
            send_emails.apply_async((ids[first : first + DELIVERY_BATCH],), queue=queue)
        pending = OutboxMessage.objects.filter(pk__in=ids).exclude(status=Status.SENT)
        deadline = time.monotonic() + timeout
        while pending.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{pending.count()} of {messages} messages not sent in time")
            time.sleep(0.05)
        deliver_seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        controller.stop()
        OutboxMessage.objects.filter(user__email__endswith=f"@{BENCH_DOMAIN}").delete()
        User.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").delete()
    kib = 1024  # ru_maxrss is in KiB on Linux
    return BenchResult(
        messages=messages,
        workers=concurrency,
        render_seconds=render_seconds,
        deliver_seconds=deliver_seconds,
        smtp_received=handler.count,
        peak_rss_bench_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib,
        peak_rss_worker_mib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kib,
        smtplib_seconds=smtplib_seconds,
    )
