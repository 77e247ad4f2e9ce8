"""Renewals on PostgreSQL are one INSERT ... SELECT per batch; it must make exactly the
rows the ORM path (invoice_build and period_line, used on other databases) makes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from billing.models import (
    BillingAccount,
    BillingCycle,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    Service,
    ServiceStatus,
)
from billing.services import renewals
from tests.factories import PriceFactory, ProductFactory, TaxRateFactory, UserFactory

TODAY = dt.date(2027, 1, 20)


class Rollback(Exception):
    pass


@pytest.fixture
def due_services(db):
    """Customers and services covering every branch of tax, cycles, dates and free plans."""
    TaxRateFactory(country="GB", name="VAT", rate="20.00", is_eu=False)
    TaxRateFactory(country="DE", name="MwSt", rate="19.00", is_eu=True)
    TaxRateFactory(country="FR", name="TVA", rate="20.00", is_eu=True)
    TaxRateFactory(country="HU", name="ÁFA", rate="27.00", is_eu=True)
    plan = ProductFactory(name="Starter hosting")
    free = ProductFactory(name="Free tier")
    PriceFactory(product=plan, amount=999)
    PriceFactory(product=free, amount=0)
    customers = [
        UserFactory(country="GB", business_name="Archer Ltd", address_line2="Flat 2"),
        UserFactory(country="DE", full_name=""),  # the email stands in for the name
        UserFactory(country="FR"),  # a German number: not her own, so VAT is charged
        UserFactory(country="HU", region="Pest"),
        UserFactory(country="US"),  # no tax rate at all
    ]
    BillingAccount.objects.create(user=customers[1], vat_number="DE123456789")
    BillingAccount.objects.create(user=customers[2], vat_number="DE123456789")
    cases = [
        # (customer, product, cycle, amount, next due date)
        (0, plan, BillingCycle.MONTHLY, 999, dt.date(2027, 1, 31)),  # month end: 28 Feb
        (0, plan, BillingCycle.YEARLY, 9_990, dt.date(2027, 1, 25)),
        (1, plan, BillingCycle.QUARTERLY, 2_997, dt.date(2027, 1, 22)),
        (2, plan, BillingCycle.MONTHLY, 5, dt.date(2027, 1, 21)),  # 1 cent of tax, half up
        (3, plan, BillingCycle.MONTHLY, 1_234, dt.date(2027, 2, 1)),
        (4, plan, BillingCycle.MONTHLY, 999, dt.date(2027, 1, 29)),
        (4, free, BillingCycle.MONTHLY, 0, dt.date(2027, 1, 30)),  # renews as paid
        (0, plan, BillingCycle.MONTHLY, 999, dt.date(2027, 3, 1)),  # not due yet
    ]
    for index, product, cycle, amount, due in cases:
        user = customers[index]
        Service.objects.create(
            user=user,
            order=Order.objects.create(user=user, currency="EUR"),
            product=product,
            cycle=cycle,
            currency="EUR",
            amount=amount,
            status=ServiceStatus.ACTIVE,
            next_due_date=due,
        )
    return cases


# Every column but the ones that differ between two runs by nature.
FIELDS = [
    f.attname
    for f in Invoice._meta.concrete_fields
    if f.attname not in {"id", "created_at", "paid_at"}
]


# Invoices and lines as values_list tuples: column values of every type, compared whole.
Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _rows() -> Rows:
    invoice_rows = list(Invoice.objects.order_by("sequence").values_list(*FIELDS))
    line_rows = list(
        InvoiceLine.objects.order_by("invoice__sequence").values_list(
            "invoice__sequence",
            "description",
            "quantity",
            "unit_amount",
            "amount",
            "service_id",
            "period_start",
            "period_end",
        )
    )
    return invoice_rows, line_rows


def _renew(
    batch_size: int = 20_000,
) -> tuple[list[int], Rows]:
    made: list[int] = []
    rows: Rows = ([], [])
    try:
        with transaction.atomic():
            made = renewals.renewals_generate(today=TODAY, days_ahead=14, batch_size=batch_size)
            rows = _rows()
            statuses = dict(Invoice.objects.values_list("subtotal", "status"))
            assert statuses[0] == InvoiceStatus.PAID
            raise Rollback
    except Rollback:
        pass
    return made, rows


def test_the_sql_renewals_make_the_same_invoices_and_lines_as_the_orm(due_services, monkeypatch):
    sql_made, sql_rows = _renew()
    monkeypatch.setattr(renewals, "_renewals_insert_sql", renewals._renewals_insert_orm)
    orm_made, orm_rows = _renew()

    assert len(sql_made) == len(orm_made) == 7
    assert sql_rows[0] == orm_rows[0]
    assert sql_rows[1] == orm_rows[1]


def test_the_sql_renewals_print_lines_and_tax_as_invoices_always_have(due_services):
    _, (invoice_rows, line_rows) = _renew(batch_size=3)  # three batches, numbers run on

    descriptions = [line[1] for line in line_rows]
    assert "Starter hosting (monthly), 31 Jan 2027 to 28 Feb 2027" in descriptions
    assert "Starter hosting (quarterly), 22 Jan 2027 to 22 Apr 2027" in descriptions
    assert [line[0] for line in line_rows] == list(range(1, 8))
    fields = [f.attname for f in Invoice._meta.concrete_fields if f.attname != "id"]
    by_number = {
        row[fields.index("number")]: dict(zip(fields, row, strict=False)) for row in invoice_rows
    }
    assert sorted(by_number) == [f"INV-2027-{n:06d}" for n in range(1, 8)]
    tiny = next(row for row in by_number.values() if row["subtotal"] == 5)
    assert (tiny["tax_amount"], tiny["total"], tiny["reverse_charge"]) == (1, 6, False)
    german = next(
        row
        for row in by_number.values()
        if row["vat_number"] == "DE123456789" and row["billing_country"] == "DE"
    )
    assert (german["tax_amount"], german["reverse_charge"]) == (0, True)
