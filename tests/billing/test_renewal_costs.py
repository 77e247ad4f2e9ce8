"""What a renewal run costs the database: each customer read once, and only the indexes
a query of ours uses written per invoice and line (docs/benchmarks.md, renewals)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice, InvoiceLine, Order, Service, ServiceStatus
from billing.services.renewals import renewals_generate

TODAY = dt.date(2027, 3, 10)


def due_service(user, plan) -> Service:
    return Service.objects.create(
        user=user,
        order=Order.objects.create(user=user, currency="EUR"),
        product=plan,
        cycle="monthly",
        currency="EUR",
        amount=999,
        status=ServiceStatus.ACTIVE,
        next_due_date=TODAY + dt.timedelta(days=1),
    )


def test_each_customer_is_read_once_a_run_not_once_a_batch(db, alice, bob, plan):
    for _ in range(3):
        due_service(alice, plan)
        due_service(bob, plan)

    with CaptureQueriesContext(connection) as captured:
        renewed = renewals_generate(today=TODAY, days_ahead=14, batch_size=2)

    assert len(renewed) == 6
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(reads) == 1  # both in the first batch; the next two batches from memory
    invoices = Invoice.objects.select_related("user")
    assert sorted(i.billing_email for i in invoices) == sorted(i.user.email for i in invoices)
    assert {i.billing_email for i in invoices} == {alice.email, bob.email}


def _plan(sql: str, params: tuple[Any, ...]) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_lookups_by_service_and_by_order_keep_an_index(alice, plan):
    service = due_service(alice, plan)
    lines = InvoiceLine.objects.filter(service=service)
    order_invoices = service.order.invoices.all()

    # The (service, period_start) constraint serves lines by service; the partial
    # index on invoice.order serves order.invoices (`order_id = x` implies NOT NULL).
    assert "billing_line_once_per_period" in _plan(*lines.query.sql_with_params())
    assert "billing_invoice_order_set" in _plan(*order_invoices.query.sql_with_params())


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass",
            [table],
        )
        return {row[0].split(" USING btree ", 1)[1] for row in cursor.fetchall()}


def test_a_renewal_writes_five_index_entries_for_its_invoice_and_three_for_its_line(db):
    # A renewal has no order: the partial index on order_id takes no entry for it.
    assert _indexes("billing_invoice") == {
        "(id)",
        "(year, sequence)",
        "(number)",
        "(user_id, year DESC, sequence DESC)",
        "(status, due_date)",
        "(order_id) WHERE (order_id IS NOT NULL)",
    }
    assert _indexes("billing_invoiceline") == {
        "(id)",
        "(invoice_id)",
        "(service_id, period_start)",
    }


def test_lines_without_a_service_or_a_period_never_conflict(alice, plan):
    service = due_service(alice, plan)
    invoice = Invoice.objects.create(
        user=alice,
        year=2027,
        sequence=1,
        number="INV-2027-000001",
        currency="EUR",
        issued_on=TODAY,
        due_date=TODAY,
        subtotal=2,
        total=2,
        billing_name="Alice",
    )
    for service_id, period_start in [(service.pk, None), (service.pk, None), (None, TODAY)] * 2:
        InvoiceLine.objects.create(
            invoice=invoice,
            description="setup",
            unit_amount=0,
            amount=0,
            service_id=service_id,
            period_start=period_start,
        )
    assert InvoiceLine.objects.count() == 6
