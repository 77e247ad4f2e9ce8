"""The GDPR export of a customer with many invoices, built by a real Celery worker.

Writes a throwaway customer with N invoices (one line each), starts `celery -A config
worker` on a queue of its own, queues the build as the Export button does, and waits
for the zip. Reports the seconds from queueing to a ready link, the zip's size, and
the worker's peak resident memory. (Support tickets join the export when support/
lands; this customer has none.)
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

from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone

from .table import Row

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


def rows(*, invoices: int, timeout: float = 1800.0) -> list[Row]:
    from accounts.models import User
    from billing.models import Invoice, InvoiceLine, Order
    from privacy.models import DataRequest
    from privacy.tasks import build_export

    queue = f"bench-export-{os.getpid()}"
    worker = _worker(queue)
    user = User.objects.create_user(email=f"customer@{DOMAIN}", full_name="Export Bench")
    try:
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
            InvoiceLine(
                invoice=invoice, description="Starter hosting", unit_amount=1000, amount=1000
            )
            for invoice in made
        )
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
        for name in DataRequest.objects.filter(user=user).values_list("file_name", flat=True):
            if name:
                storages["privacy"].delete(name)
        DataRequest.objects.filter(user=user).delete()
        from notifications.models import OutboxMessage

        OutboxMessage.objects.filter(user=user).delete()
        InvoiceLine.objects.filter(invoice__user=user).delete()
        Invoice.objects.filter(user=user).delete()
        Order.objects.filter(user=user).delete()
        user.delete()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return [
        Row(
            what=f"GDPR export of a customer with {invoices:,} invoices (PDF each), 1 worker",
            result=f"{seconds:,.1f} s",
            note=f"zip {size / 2**20:.1f} MiB; worker peak RSS {peak:.0f} MiB",
        )
    ]
