"""The GDPR export of a customer with many invoices and tickets, built by a real Celery
worker.

Writes a throwaway customer with N invoices (one line each) and M tickets (a question,
our answer, and a small attachment on every tenth), starts `celery -A config worker`
on a queue of its own, queues the build as the Export button does, and waits for the
zip. Reports the seconds from queueing to a ready link, the zip's size, and the
worker's peak resident memory. `python -m benchmarks.export --profile` builds the same
export in-process under cProfile instead (docs/benchmarks.md, "Where the time went").
"""

from __future__ import annotations

import datetime
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone

from .table import Row

if TYPE_CHECKING:  # imported at run time only once Django is set up
    from accounts.models import User

DOMAIN = "export-bench.invalid"


def _worker(queue: str) -> subprocess.Popen[str]:
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    process = subprocess.Popen(  # noqa: S603 (our own binary and arguments)
        [celery, "-A", "config", "worker", "-Q", queue, "--concurrency=1", "--loglevel=INFO"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=settings.BASE_DIR,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if process.stdout is None:
        raise RuntimeError("The worker's output is not readable.")
    for line in process.stdout:
        if " ready." in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process
    raise RuntimeError("The Celery worker did not start; is the broker (REDIS_URL) up?")


def customer(*, invoices: int, tickets: int) -> User:
    """A throwaway customer with `invoices` invoices and `tickets` tickets."""
    from django.core.files.base import ContentFile

    from accounts.models import User
    from billing.models import Invoice, InvoiceLine, Order
    from support.models import Attachment, Department, Message, Ticket

    user = User.objects.create_user(
        email=f"customer-{os.getpid()}@{DOMAIN}", full_name="Export Bench"
    )
    order = Order.objects.create(user=user, currency="EUR")
    today = timezone.localdate()
    made = Invoice.objects.bulk_create(
        Invoice(
            user=user,
            order=order,
            year=9000,
            sequence=i,
            number=f"BENCH-{os.getpid()}-{i}",
            currency="EUR",
            issued_on=today - datetime.timedelta(days=i),
            due_date=today,
            subtotal=1000,
            total=1000,
            billing_name="Export Bench",
            billing_address="1 Bench Street\nLondon",
        )
        for i in range(invoices)
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, description="Starter hosting", unit_amount=1000, amount=1000)
        for invoice in made
    )
    department = Department.objects.order_by("pk").first()
    if department is None:
        department = Department.objects.create(name="Bench", slug=f"bench-{os.getpid()}")
    opened = Ticket.objects.bulk_create(
        Ticket(user=user, department=department, subject=f"Question {i}") for i in range(tickets)
    )
    messages = Message.objects.bulk_create(
        message
        for ticket in opened
        for message in (
            Message(ticket=ticket, source="web", body="My site is slow since this morning. " * 8),
            Message(ticket=ticket, source="staff", from_staff=True, body="We moved you. " * 8),
        )
    )
    for message in messages[::20]:
        attachment = Attachment(
            message=message, filename="log.txt", content_type="text/plain", size=10_240
        )
        attachment.file.save("log.txt", ContentFile(b"x" * 10_240), save=False)
        attachment.save()
    return user


def remove(user: User) -> None:
    """Deletes the customer of `customer` with everything it made, files included."""
    from billing.models import Invoice, InvoiceLine, Order
    from notifications.models import OutboxMessage
    from privacy.models import DataRequest
    from support.models import Attachment, Ticket

    for name in DataRequest.objects.filter(user=user).values_list("file_name", flat=True):
        if name:
            storages["privacy"].delete(name)
    DataRequest.objects.filter(user=user).delete()
    OutboxMessage.objects.filter(user=user).delete()
    for attachment in Attachment.objects.filter(message__ticket__user=user):
        attachment.file.delete(save=False)
    Ticket.objects.filter(user=user).delete()
    InvoiceLine.objects.filter(invoice__user=user).delete()
    Invoice.objects.filter(user=user).delete()
    Order.objects.filter(user=user).delete()
    user.delete()


def rows(*, invoices: int, tickets: int = 200, timeout: float = 1800.0) -> list[Row]:
    from privacy.models import DataRequest
    from privacy.tasks import build_export

    queue = f"bench-export-{os.getpid()}"
    worker = _worker(queue)
    user = customer(invoices=invoices, tickets=tickets)
    try:
        now = timezone.now()
        data_request = DataRequest.objects.create(
            user=user, kind=DataRequest.Kind.EXPORT, deadline=now + datetime.timedelta(days=30)
        )
        started = time.perf_counter()
        build_export.apply_async((data_request.pk,), queue=queue)
        deadline = time.monotonic() + timeout
        while True:
            data_request.refresh_from_db()
            if data_request.status == DataRequest.Status.READY:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("The export was not built in time.")
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        size = data_request.file_size or 0
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        remove(user)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return [
        Row(
            what=(
                f"GDPR export of a customer with {invoices:,} invoices (PDF each) and "
                f"{tickets:,} tickets, 1 worker"
            ),
            result=f"{seconds:,.1f} s",
            target="met (< 60 s)" if seconds < 60 else f"missed: {seconds / 60:.1f}x 60 s",
            note=f"zip {size / 2**20:.1f} MiB; worker peak RSS {peak:.0f} MiB",
        )
    ]


def profile(*, invoices: int, tickets: int) -> None:
    """Builds the export in this process under cProfile and prints the top functions,
    the queries per app and the peak memory Python allocated (tracemalloc)."""
    import cProfile
    import pstats
    import tracemalloc

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from privacy import export

    user = customer(invoices=invoices, tickets=tickets)
    try:
        profiler = cProfile.Profile()
        tracemalloc.start()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            profiler.enable()
            path = export.build(user=user, request_id=0)
            profiler.disable()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        size = path.stat().st_size / 2**20
        path.unlink()
    finally:
        remove(user)
    print(
        f"{invoices} invoices, {tickets} tickets: {seconds:.1f} s, {len(queries)} queries, "
        f"zip {size:.1f} MiB, Python peak {peak:.0f} MiB"
    )
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    import argparse

    import django

    parser = argparse.ArgumentParser(prog="python -m benchmarks.export")
    parser.add_argument("--profile", action="store_true", required=True)
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--tickets", type=int, default=20)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    django.setup()
    profile(invoices=options.invoices, tickets=options.tickets)
