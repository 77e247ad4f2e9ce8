"""Renewal invoices for N due services: seconds for one run, inside a transaction
that is rolled back (the bench database is left as it was)."""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing.models import BillingCycle, InvoiceLine, Order, Price, Product, Service, ServiceStatus
from billing.services.renewals import renewals_generate

from .table import Row


class Rollback(Exception):
    pass


def rows(*, count: int = 100_000, customers: int = 1_000) -> list[Row]:
    result: list[Row] = []
    try:
        with transaction.atomic():
            result = _measure(count, customers)
            raise Rollback
    except Rollback:
        pass
    return result


def _measure(count: int, customers: int) -> list[Row]:
    stamp = time.time_ns()
    product = Product.objects.create(name="Bench renewal plan", slug=f"bench-renewal-{stamp}")
    Price.objects.create(product=product, currency="EUR", cycle="monthly", amount=999)
    users = User.objects.bulk_create(
        User(email=f"renewal-{stamp}-{i}@bench.example.invalid", full_name=f"Bench {i}")
        for i in range(customers)
    )
    orders = Order.objects.bulk_create(Order(user=user, currency="EUR") for user in users)
    today = timezone.localdate()
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
    started = time.perf_counter()
    made = renewals_generate(today=today, days_ahead=7)
    elapsed = time.perf_counter() - started
    made_count = len(made)
    lines = InvoiceLine.objects.filter(service__product=product).count()
    if made_count != count or lines != count:
        raise RuntimeError(
            f"Expected {count} renewal invoices and lines, made {made_count}/{lines}."
        )
    again = time.perf_counter()
    second = renewals_generate(today=today, days_ahead=7)
    if second:
        raise RuntimeError("A second renewal run made invoices: not idempotent.")
    return [
        Row(
            what=f"renewal invoices with their lines for {count:,} due services",
            result=f"{elapsed:.1f} s ({count / elapsed:,.0f} invoices/s)",
            target="met (< 5 s)" if elapsed < 5 else f"missed: {elapsed / 5:.1f}x 5 s",
            note=f"second run (idempotent) 0 invoices in {time.perf_counter() - again:.2f} s",
        )
    ]
