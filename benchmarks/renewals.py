"""Renewal invoices for N due services: seconds for one run as production runs it.

Each batch of renewals_generate commits, so the figure includes the deferred foreign
key checks PostgreSQL runs at COMMIT and the commit's WAL flush: a run rolled back
never pays them. The customers, services and invoices made here are deleted afterwards
(and the tables vacuumed, so the next run does not start on their dead rows); the
invoice counter is put back where it was.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from billing.models import (
    BillingCycle,
    DocumentCounter,
    InvoiceLine,
    Order,
    Price,
    Product,
    Service,
    ServiceStatus,
)
from billing.services.renewals import renewals_generate

from .table import Row

# What the run writes or reads: analysed before it (as autovacuum would have in
# production) and vacuumed after the clean-up.
TABLES = ("billing_service", "billing_invoice", "billing_invoiceline", "accounts_user")


def rows(*, count: int = 100_000, customers: int = 1_000) -> list[Row]:
    if connection.in_atomic_block:
        raise RuntimeError("The renewal bench commits: run it outside a transaction.")
    today = timezone.localdate()
    counter = DocumentCounter.objects.filter(series="INV", year=today.year).first()
    product, users = due_services(count, customers, today)
    try:
        return _measure(count, product, today)
    finally:
        clean_up(product, users)
        if counter is None:
            DocumentCounter.objects.filter(series="INV", year=today.year).delete()
        else:
            counter.save(update_fields=["last_number"])
        _maintain("VACUUM (ANALYZE)")


def due_services(count: int, customers: int, today: dt.date) -> tuple[Product, list[int]]:
    """`count` active services of `customers` new customers, due within 7 days, committed."""
    stamp = time.time_ns()
    product = Product.objects.create(name="Bench renewal plan", slug=f"bench-renewal-{stamp}")
    Price.objects.create(product=product, currency="EUR", cycle="monthly", amount=999)
    users = User.objects.bulk_create(
        User(email=f"renewal-{stamp}-{i}@bench.example.invalid", full_name=f"Bench {i}")
        for i in range(customers)
    )
    orders = Order.objects.bulk_create(Order(user=user, currency="EUR") for user in users)
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
    _maintain("ANALYZE")
    return product, [user.pk for user in users]


def _measure(count: int, product: Product, today: dt.date) -> list[Row]:
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
            what=f"renewal invoices with their lines for {count:,} due services, committed",
            result=f"{elapsed:.1f} s ({count / elapsed:,.0f} invoices/s)",
            target="met (< 5 s)" if elapsed < 5 else f"missed: {elapsed / 5:.1f}x 5 s",
            note=f"second run (idempotent) 0 invoices in {time.perf_counter() - again:.2f} s",
        )
    ]


def clean_up(product: Product, users: list[int]) -> None:
    """Deletes the bench's customers with their orders, services, invoices and lines.

    In SQL, one table at a time by id arrays: the ORM's delete would load 100,000
    services and invoices into Python to cascade. Anything else still pointing at these
    rows fails the commit (the foreign keys are checked there): nothing is left dangling.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM billing_invoiceline line USING billing_service service"
            " WHERE line.service_id = service.id AND service.product_id = %s"
            " RETURNING line.invoice_id",
            [product.pk],
        )
        invoices = [invoice_id for (invoice_id,) in cursor.fetchall()]
        cursor.execute("DELETE FROM billing_invoice WHERE id = ANY(%s)", [invoices])
        cursor.execute("DELETE FROM billing_service WHERE product_id = %s", [product.pk])
        cursor.execute("DELETE FROM billing_order WHERE user_id = ANY(%s)", [users])
        cursor.execute("DELETE FROM accounts_user WHERE id = ANY(%s)", [users])
        Price.objects.filter(product=product).delete()
        product.delete()


def _maintain(command: str) -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"{command} {table}")
