"""Outbox delivery through real Celery workers beside plain smtplib, into one sink."""

from __future__ import annotations

from notifications import bench

from .table import Row

WORKERS = 2


def rows(*, messages: int) -> list[Row]:
    result = bench.run(messages=messages, concurrency=WORKERS)
    if result.smtp_received != messages:
        raise RuntimeError(f"The SMTP server got {result.smtp_received} of {messages} emails.")
    ratio = result.emails_per_second / result.smtplib_per_second
    return [
        Row(
            what=f"plain smtplib, a new connection per message ({messages:,} emails, 1 process)",
            result=f"{result.smtplib_per_second:,.0f} emails/s",
            ratio="1.00",
        ),
        Row(
            what=f"outbox through {WORKERS} Celery worker processes into the same sink",
            result=f"{result.emails_per_second:,.0f} emails/s",
            ratio=f"{ratio:.2f}",
            target="met (>= 0.5)" if ratio >= 0.5 else f"missed: {ratio / 0.5:.0%} of 0.5",
            note=f"worker peak RSS {result.peak_rss_worker_mib:.0f} MiB",
        ),
    ]
