"""make bench: emails delivered per second through Celery workers and SMTP, and peak memory."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications import bench


class Command(BaseCommand):
    help = (
        "Sends N welcome emails through real Celery workers to an SMTP server on loopback "
        "and reports emails per second and peak memory. Needs the Redis broker; creates "
        "and deletes throwaway customers, so run it on a development database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=5000)
        parser.add_argument(
            "--concurrency", type=int, default=os.cpu_count() or 1, help="Worker processes."
        )

    def handle(self, *args: str, messages: int, concurrency: int, **options: object) -> None:
        if messages < 1 or concurrency < 1:
            raise CommandError("--messages and --concurrency must be at least 1.")
        if not settings.DEBUG:
            raise CommandError("The benchmark writes test customers: run it with DEBUG=true.")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("The benchmark needs a broker: set REDIS_URL.")
        self.stdout.write(f"Sending {messages} emails with {concurrency} worker process(es)...")
        load_before = os.getloadavg()[0]
        result = bench.run(messages=messages, concurrency=concurrency)
        if result.smtp_received != messages:
            raise CommandError(f"The SMTP server got {result.smtp_received} of {messages}.")
        self.stdout.write(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC | {bench.machine()}\n"
            f"messages: {messages}, worker processes: {concurrency}\n"
            f"render + insert: {result.rendered_per_second:.0f} messages/s "
            f"({result.render_seconds:.2f} s)\n"
            f"delivered: {result.emails_per_second:.0f} emails/s "
            f"({result.deliver_seconds:.2f} s through worker and SMTP)\n"
            f"plain smtplib, a connection per message, same server: "
            f"{result.smtplib_per_second:.0f} emails/s\n"
            f"peak RSS: bench process {result.peak_rss_bench_mib:.0f} MiB, "
            f"largest worker process {result.peak_rss_worker_mib:.0f} MiB\n"
            f"1-minute load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
            "(other work on the machine skews the figures)"
        )
