"""Plain smtplib, a new connection per message: the benchmark's yardstick for the outbox.

Standard library only, so notifications.bench can run it in a spawned process of its
own (no Django there, and no fork of a process with an SMTP server thread)."""

from __future__ import annotations

import smtplib
import time


def send_each_on_its_own_connection(
    payloads: list[tuple[str, bytes]], *, sender: str, port: int
) -> float:
    """Sends every (recipient, message) to 127.0.0.1:port; returns the seconds taken."""
    started = time.perf_counter()
    for recipient, payload in payloads:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as connection:
            connection.sendmail(sender, [recipient], payload)
    return time.perf_counter() - started
