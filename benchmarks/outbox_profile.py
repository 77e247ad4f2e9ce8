"""Where the outbox's time goes, in one process, without Celery.

`python -m benchmarks.outbox_profile [--messages N] [--cprofile] [--instructions]`
writes N welcome emails for throwaway customers, starts an aiosmtpd sink in a process
of its own, and delivers the rows here with `messages_deliver` in batches of
DELIVERY_BATCH, as a worker's task does. It prints emails/s (wall clock and CPU) and,
per message: the time inside `emails.send_email`, of it the SMTP dialogue
(`smtplib.SMTP.sendmail`) and the rest (building the message), the SQL statements
and their time, the commits and their time, and what is left (rows into models,
secrets, consent). `--cprofile` prints the costliest functions; `--instructions`
counts the instructions per message under callgrind (benchmarks/profile.py's trick),
a figure that does not move with the load of a shared machine. Everything it created
is deleted afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import multiprocessing
import os
import pstats
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import patch

DOMAIN = "outbox-profile.example.invalid"


def _sink(port: int, ready: Any) -> None:
    """The SMTP server: accepts every message (run in a spawned process)."""
    import logging

    from aiosmtpd.controller import Controller

    class Accept:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 (aiosmtpd API)
            return "250 OK"

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


@dataclass
class Timer:
    """Seconds and calls spent in one wrapped function."""

    seconds: float = 0.0
    calls: int = 0
    inner: list[float] = field(default_factory=list)

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        return timed


@contextmanager
def timers() -> Iterator[dict[str, Timer]]:
    """Times emails.send_email, smtplib's sendmail, SQL statements and commits."""
    import smtplib

    from django.db import connection

    from notifications import emails

    found = {name: Timer() for name in ("send_email", "sendmail", "sql", "commit")}

    def execute(run: Callable[..., Any], sql: str, *args: Any) -> Any:
        return found["sql"].wrap(run)(sql, *args)

    with ExitStack() as stack:
        # notifications.delivery calls emails.send_email through the module.
        stack.enter_context(
            patch.object(emails, "send_email", found["send_email"].wrap(emails.send_email))
        )
        stack.enter_context(
            patch.object(smtplib.SMTP, "sendmail", found["sendmail"].wrap(smtplib.SMTP.sendmail))
        )
        stack.enter_context(
            patch.object(connection, "commit", found["commit"].wrap(connection.commit))
        )
        stack.enter_context(connection.execute_wrapper(execute))
        yield found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.outbox_profile", description=__doc__
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="count under callgrind")
    parser.add_argument(
        "--marketing", action="store_true", help="marketing emails (consent, unsubscribe)"
    )
    options = parser.parse_args(argv)
    if options.instructions and "PROFILE_CALLGRIND_LIBRARY" not in os.environ:
        from .profile import under_callgrind

        return under_callgrind("benchmarks.outbox_profile", argv, options.messages)
    marks = ctypes.CDLL(os.environ["PROFILE_CALLGRIND_LIBRARY"]) if options.instructions else None

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    sink = context.Process(target=_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(30)
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from notifications.delivery import DELIVERY_BATCH, messages_deliver
    from notifications.models import Category, OutboxMessage, Preferences, Status
    from notifications.services import email_message_build

    User = get_user_model()  # noqa: N806
    category = Category.MARKETING if options.marketing else Category.TRANSACTIONAL
    try:
        users = User.objects.bulk_create(
            User(email=f"customer{i}@{DOMAIN}", full_name=f"Zoë Müller {i}") for i in range(100)
        )
        Preferences.objects.bulk_create(Preferences(user=u, marketing_email=True) for u in users)
        rows = OutboxMessage.objects.bulk_create(
            email_message_build(
                user=users[i % len(users)], kind="welcome", context={}, category=category
            )
            for i in range(options.messages + DELIVERY_BATCH)
        )
        ids = [row.pk for row in rows]
        messages_deliver(message_ids=ids[:DELIVERY_BATCH])  # warm: connection, imports
        ids = ids[DELIVERY_BATCH:]
        profiler = cProfile.Profile() if options.cprofile else None
        with timers() as found:
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            if marks:
                marks.cg_start()
                marks.cg_zero()
                marks.cg_toggle()
            for first in range(0, len(ids), DELIVERY_BATCH):
                messages_deliver(message_ids=ids[first : first + DELIVERY_BATCH])
            if marks:
                marks.cg_toggle()
                marks.cg_dump(b"outbox messages")
                marks.cg_stop()
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sent = OutboxMessage.objects.filter(pk__in=ids, status=Status.SENT).count()
        if sent != len(ids):
            raise RuntimeError(f"{sent} of {len(ids)} rows sent")
    finally:
        OutboxMessage.objects.filter(user__email__endswith=f"@{DOMAIN}").delete()
        User.objects.filter(email__endswith=f"@{DOMAIN}").delete()
        sink.kill()
    n = len(ids)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000 / n:.2f} ms"

    send, smtp, sql, commit = (found[k] for k in ("send_email", "sendmail", "sql", "commit"))
    print(
        f"{n} {category} emails: {n / wall:.0f} emails/s wall, {n / cpu:.0f} emails/s of CPU "
        f"(load {os.getloadavg()[0]:.2f}); per message {ms(wall)}:\n"
        f"  emails.send_email {ms(send.seconds)}: SMTP dialogue {ms(smtp.seconds)}, "
        f"building {ms(send.seconds - smtp.seconds)}\n"
        f"  SQL {sql.calls / n:.2f} statements {ms(sql.seconds)}, "
        f"{commit.calls / n:.2f} commits {ms(commit.seconds)}\n"
        f"  the rest {ms(wall - send.seconds - sql.seconds - commit.seconds)}",
        flush=True,
    )
    if profiler:
        order = os.environ.get("PROFILE_SORT", "cumulative")
        pstats.Stats(profiler).sort_stats(order).print_stats(
            int(os.environ.get("PROFILE_LINES", "40"))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
