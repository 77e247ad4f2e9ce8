"""Renewals: the beat job that issues the next invoice of every active service due
soon, set-based (one INSERT ... SELECT on PostgreSQL), through the same tax, snapshot
and line rules as invoice_build."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from billing.models import (
    BillingCycle,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Service,
    ServiceStatus,
    TaxRate,
)

from .customers import customer_snapshot
from .invoices import (
    TaxDecision,
    invoice_build,
    invoice_mark_paid,
    invoice_number,
    numbers_take,
    period_line,
    tax_decision,
)


def renewals_generate(*, today: dt.date, days_ahead: int, batch_size: int = 20_000) -> list[int]:
    """Issues the next invoice of every active service due within `days_ahead` days.

    Set-based: per batch one query picks services not yet invoiced for their next
    period and one reads those of their customers no earlier batch has read; on
    PostgreSQL a single INSERT ... SELECT then writes the invoices and their lines
    (elsewhere, two bulk inserts of the rows that invoice_build and period_line make:
    the same rows, a test compares them). Idempotent:
    the (service, period_start) unique line means a second run finds nothing. Each
    batch is its own transaction holding the invoice counter's lock, so two workers never
    interleave and numbers stay gap-free. Returns the new invoice ids.
    """
    already_billed = InvoiceLine.objects.filter(
        service=OuterRef("pk"), period_start=OuterRef("next_due_date")
    )
    due = Service.objects.filter(
        status=ServiceStatus.ACTIVE,
        cancel_at__isnull=True,  # a cancellation waiting to run: no next period
        next_due_date__isnull=False,
        next_due_date__lte=today + dt.timedelta(days=days_ahead),
    ).exclude(Exists(already_billed))
    rates = {str(rate.country): rate for rate in TaxRate.objects.all()}
    write = _renewals_insert_sql if connection.vendor == "postgresql" else _renewals_insert_orm
    created: list[int] = []
    # Each customer's tax and snapshot once per run, not once per batch they appear in.
    customers: dict[int, _RenewalCustomer] = {}
    # Keyset batches: each one starts after the last service of the one before, so the
    # services just invoiced are not read again and probed against their new lines
    # (docs/benchmarks.md, "Where the time went").
    after = 0
    while True:
        with transaction.atomic():
            DocumentCounter.objects.get_or_create(series="INV", year=today.year)
            DocumentCounter.objects.select_for_update().get(series="INV", year=today.year)
            batch = list(
                due.filter(pk__gt=after).order_by("pk").values_list("pk", "user_id")[:batch_size]
            )
            if not batch:
                return created
            after = batch[-1][0]
            user_ids = {user_id for _, user_id in batch}
            users = User.objects.select_related("billing_account").in_bulk(
                user_ids - customers.keys()
            )
            customers.update((pk, _renewal_customer(user, rates)) for pk, user in users.items())
            first = numbers_take(series="INV", year=today.year, count=len(batch))
            made = write(
                service_ids=[pk for pk, _ in batch],
                customers=[customers[user_id] for user_id in user_ids],
                first=first,
                today=today,
            )
            for invoice in Invoice.objects.filter(pk__in=[pk for pk, free in made if free]):
                invoice_mark_paid(invoice=invoice)  # free services renew without a bill to pay
            created.extend(pk for pk, _ in made)


@dataclass(frozen=True)
class _RenewalCustomer:
    """What every renewal invoice of one customer shares: tax and the snapshot."""

    user: User
    vat_number: str
    rate: TaxRate | None
    tax: TaxDecision
    snapshot: dict[str, str]


def _renewal_customer(user: User, rates: dict[str, TaxRate]) -> _RenewalCustomer:
    account = getattr(user, "billing_account", None)
    vat_number = account.vat_number if account else ""
    rate = rates.get(str(user.country))
    return _RenewalCustomer(
        user=user,
        vat_number=vat_number,
        rate=rate,
        tax=tax_decision(rate=rate, country=str(user.country), vat_number=vat_number),
        snapshot=customer_snapshot(user=user, vat_number=vat_number),
    )


def _renewals_insert_orm(
    *, service_ids: list[int], customers: list[_RenewalCustomer], first: int, today: dt.date
) -> list[tuple[int, bool]]:
    by_user = {customer.user.pk: customer for customer in customers}
    services = Service.objects.filter(pk__in=service_ids).select_related("product").order_by("pk")
    invoices = []
    lines = []
    for offset, service in enumerate(services):
        customer = by_user[service.user_id]
        period_start = cast(dt.date, service.next_due_date)  # not null, filtered above
        invoice = invoice_build(
            user=customer.user,
            vat_number=customer.vat_number,
            rate=customer.rate,
            sequence=first + offset,
            currency=service.currency,
            subtotal=service.amount,
            issued_on=today,
            due_date=period_start,
        )
        line = period_line(
            product=service.product,
            cycle=service.cycle,
            amount=service.amount,
            start=period_start,
            service=service,
        )
        line.invoice = invoice  # bulk_create below takes the invoice's new pk
        invoices.append(invoice)
        lines.append(line)
    Invoice.objects.bulk_create(invoices)
    InvoiceLine.objects.bulk_create(lines)
    return [(invoice.pk, invoice.total == 0) for invoice in invoices]


# The invoice and line of each due service in one statement. The numbering CTE is
# read twice and materialised once, so each line meets its own invoice by sequence.
# Tax is rounded half up as billing.money.percent_of does (amounts are never negative);
# dates print as period_line prints them ('DD Mon YYYY' is English in every locale),
# and date + n months clamps to the month's end as relativedelta does.
_RENEWALS_SQL = """
WITH due AS (
    SELECT s.id AS service_id, s.user_id, s.product_id, s.amount, s.currency, s.cycle,
           s.next_due_date AS period_start,
           %(first)s + row_number() OVER (ORDER BY s.id) - 1 AS sequence
    FROM billing_service s
    WHERE s.id = ANY(%(service_ids)s)
),
customer AS (
    SELECT * FROM unnest(
        %(user_ids)s::bigint[], %(names)s::text[], %(businesses)s::text[],
        %(addresses)s::text[], %(countries)s::text[], %(emails)s::text[],
        %(vat_numbers)s::text[], %(tax_names)s::text[], %(tax_rates)s::numeric[],
        %(reverse_charges)s::boolean[]
    ) AS c(user_id, billing_name, billing_business, billing_address, billing_country,
           billing_email, vat_number, tax_name, tax_rate, reverse_charge)
),
cycles AS (
    SELECT * FROM unnest(%(cycles)s::text[], %(cycle_labels)s::text[], %(cycle_months)s::int[])
        AS y(cycle, label, months)
),
priced AS (
    SELECT due.*, c.billing_name, c.billing_business, c.billing_address, c.billing_country,
           c.billing_email, c.vat_number, c.tax_name, c.tax_rate, c.reverse_charge,
           round(due.amount * c.tax_rate / 100)::int AS tax_amount
    FROM due JOIN customer c ON c.user_id = due.user_id
),
made AS (
    INSERT INTO billing_invoice (
        user_id, order_id, year, sequence, number, currency, status, issued_on, due_date,
        subtotal, tax_amount, total, tax_name, tax_rate, reverse_charge, billing_name,
        billing_business, billing_address, billing_country, billing_email, vat_number,
        paid_at, reminder_sent_at, created_at
    )
    SELECT user_id, NULL, %(year)s, sequence,
           %(number_prefix)s || lpad(sequence::text, greatest(6, length(sequence::text)), '0'),
           currency, %(status)s, %(today)s, period_start, amount, tax_amount,
           amount + tax_amount, tax_name, tax_rate, reverse_charge, billing_name,
           billing_business, billing_address, billing_country, billing_email, vat_number,
           NULL, NULL, %(now)s
    FROM priced
    RETURNING id, sequence
)
INSERT INTO billing_invoiceline (
    invoice_id, description, quantity, unit_amount, amount, service_id, period_start, period_end
)
SELECT made.id,
       product.name || ' (' || cycles.label || '), ' || to_char(due.period_start, 'DD Mon YYYY')
           || ' to ' || to_char((due.period_start + make_interval(months => cycles.months))::date,
                                'DD Mon YYYY'),
       1, due.amount, due.amount, due.service_id, due.period_start,
       (due.period_start + make_interval(months => cycles.months))::date
FROM made
JOIN due USING (sequence)
JOIN billing_product product ON product.id = due.product_id
JOIN cycles ON cycles.cycle = due.cycle
RETURNING invoice_id, amount = 0
"""


# What the renewals statement binds: scalars and the arrays it unnests.
_SQLValue = int | str | dt.date | list[int] | list[str] | list[bool] | list[Decimal]


def _renewals_insert_sql(
    *, service_ids: list[int], customers: list[_RenewalCustomer], first: int, today: dt.date
) -> list[tuple[int, bool]]:
    params: dict[str, _SQLValue] = {
        "first": first,
        "service_ids": service_ids,
        "user_ids": [c.user.pk for c in customers],
        "names": [c.snapshot["billing_name"] for c in customers],
        "businesses": [c.snapshot["billing_business"] for c in customers],
        "addresses": [c.snapshot["billing_address"] for c in customers],
        "countries": [c.snapshot["billing_country"] for c in customers],
        "emails": [c.snapshot["billing_email"] for c in customers],
        "vat_numbers": [c.snapshot["vat_number"] for c in customers],
        "tax_names": [c.tax.name for c in customers],
        "tax_rates": [c.tax.rate for c in customers],
        "reverse_charges": [c.tax.reverse_charge for c in customers],
        "cycles": [cycle.value for cycle in BillingCycle],
        "cycle_labels": [str(cycle.label).lower() for cycle in BillingCycle],
        "cycle_months": [BillingCycle.months(cycle) for cycle in BillingCycle],
        "year": today.year,
        "number_prefix": invoice_number(today.year, 0).removesuffix("000000"),
        "status": InvoiceStatus.UNPAID.value,
        "today": today,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_RENEWALS_SQL, params)
        return [(invoice_id, bool(free)) for invoice_id, free in cursor.fetchall()]
