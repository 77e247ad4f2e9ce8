"""Measures billing at scale and leaves the database as it found it.

1. Renewal invoices for N due services (default 100,000): invoices per second, and
   peak Python memory of the same run measured again under tracemalloc.
2. The dashboard, invoice list and an invoice page for one customer with 1,000
   invoices: median time of several requests and the number of SQL queries.

Everything runs in one transaction that is rolled back at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
import tracemalloc

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import (
    BillingCycle,
    Invoice,
    InvoiceLine,
    Order,
    Price,
    Product,
    Service,
    ServiceStatus,
)
from billing.services.invoices import numbers_take, renewals_generate


class Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmarks renewal invoicing and the client-area billing pages (rolled back)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--services", type=int, default=100_000)
        parser.add_argument("--invoices", type=int, default=1_000)
        parser.add_argument("--customers", type=int, default=1_000)
        parser.add_argument("--requests", type=int, default=10)

    def handle(self, *args, **options) -> None:
        database = connection.vendor
        if database == "postgresql":
            version = connection.pg_version
            database = f"PostgreSQL {version // 10000}.{version % 10000}"
        self.stdout.write(
            f"Machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.machine()}, "
            f"Python {platform.python_version()}, {database}"
        )
        try:
            with transaction.atomic():
                self._renewals(options["services"], options["customers"])
                self._pages(options["invoices"], options["requests"])
                raise Rollback
        except Rollback:
            self.stdout.write("Rolled back: the database is as it was.")

    def _renewals(self, count: int, customers: int) -> None:
        product = Product.objects.create(name="Bench plan", slug=f"bench-{time.time_ns()}")
        Price.objects.create(product=product, currency="EUR", cycle="monthly", amount=999)
        stamp = time.time_ns()
        users = User.objects.bulk_create(
            User(
                email=f"bench-{stamp}-{i}@example.invalid",
                full_name=f"Bench Customer {i}",
                city="London",
                postcode="NW1 6XE",
                country="GB",
            )
            for i in range(customers)
        )
        orders = Order.objects.bulk_create(Order(user=user, currency="EUR") for user in users)
        today = timezone.localdate()
        started = time.perf_counter()
        for start in range(0, count, 10_000):
            Service.objects.bulk_create(
                Service(
                    user_id=orders[i % customers].user_id,
                    order=orders[i % customers],
                    product=product,
                    cycle=BillingCycle.MONTHLY,
                    currency="EUR",
                    amount=999,
                    status=ServiceStatus.ACTIVE,
                    next_due_date=today + dt.timedelta(days=i % 7),
                )
                for i in range(start, min(start + 10_000, count))
            )
        self.stdout.write(
            f"Set up {count:,} due services for {customers:,} customers "
            f"in {time.perf_counter() - started:.1f} s."
        )
        try:
            with transaction.atomic():  # undone below, so the memory run starts afresh
                self._timed_renewals(today, count)
                raise Rollback
        except Rollback:
            pass
        tracemalloc.start()
        renewals_generate(today=today, days_ahead=7)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.stdout.write(
            f"Peak Python memory of a renewal run (tracemalloc): {peak / 1024 / 1024:.1f} MiB"
        )

    def _timed_renewals(self, today: dt.date, count: int) -> None:
        started = time.perf_counter()
        created = renewals_generate(today=today, days_ahead=7)
        elapsed = time.perf_counter() - started
        if len(created) != count:
            raise CommandError(f"Expected {count} renewal invoices, made {len(created)}.")
        self.stdout.write(
            f"Renewals: {len(created):,} invoices in {elapsed:.1f} s = "
            f"{len(created) / elapsed:,.0f} invoices/s"
        )
        again = time.perf_counter()
        if renewals_generate(today=today, days_ahead=7):
            raise CommandError("A second renewal run created invoices: not idempotent.")
        self.stdout.write(
            f"Second run (idempotent): 0 invoices in {time.perf_counter() - again:.2f} s"
        )

    def _pages(self, invoices: int, requests: int) -> None:
        user = User.objects.create(email=f"bench-pages-{time.time_ns()}@example.invalid")
        order = Order.objects.create(user=user, currency="EUR")
        today = timezone.localdate()
        first = numbers_take(series="INV", year=today.year, count=invoices)
        created = Invoice.objects.bulk_create(
            Invoice(
                user=user,
                order=order,
                year=today.year,
                sequence=first + i,
                number=f"BENCH-{today.year}-{first + i:06d}",
                currency="EUR",
                issued_on=today,
                due_date=today,
                subtotal=999,
                total=999,
                billing_name="Bench Customer",
            )
            for i in range(invoices)
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(invoice=invoice, description="Bench plan", unit_amount=999, amount=999)
            for invoice in created
        )
        client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
        client.force_login(user)
        pages = {
            "dashboard": reverse("core:dashboard"),
            "invoice list": reverse("billing:invoices"),
            "invoice list, last page": reverse("billing:invoices") + "?page=last",
            "invoice page": reverse("billing:invoice_detail", args=[created[-1].pk]),
        }
        self.stdout.write(f"Pages for one customer with {invoices:,} invoices:")
        for label, url in pages.items():
            client.get(url)  # warm caches
            timings = []
            for _ in range(requests):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}.")
            self.stdout.write(
                f"  {label:24} median {statistics.median(timings) * 1000:6.1f} ms, "
                f"{len(queries.captured_queries)} queries"
            )
