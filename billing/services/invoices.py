"""Invoices: numbering, tax, the one invoice builder, issuing and marking paid, and the
beat jobs that renew, remind and mark overdue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import (
    PAYABLE_STATUSES,
    BillingCycle,
    ChangeStatus,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderStatus,
    Product,
    Service,
    ServiceStatus,
    TaxRate,
)
from billing.money import format_money, percent_of
from billing.notices import tell_customer
from core.exceptions import ApplicationError
from core.links import absolute_url

from . import lifecycle
from .customers import billing_account_for, customer_snapshot

# --- numbers ---------------------------------------------------------------


def numbers_take(*, series: str, year: int, count: int) -> int:
    """Reserves `count` consecutive numbers in `series`/`year` and returns the first.

    Must run inside the transaction that uses them: the counter row stays locked
    until it commits, and a rollback gives the numbers back, so there are no gaps.
    """
    DocumentCounter.objects.get_or_create(series=series, year=year)
    counter = DocumentCounter.objects.select_for_update().get(series=series, year=year)
    first = counter.last_number + 1
    counter.last_number = F("last_number") + count
    counter.save(update_fields=["last_number"])
    return first


def invoice_number(year: int, sequence: int) -> str:
    return f"{settings.BILLING_INVOICE_PREFIX}{year}-{sequence:06d}"


def credit_note_number(year: int, sequence: int) -> str:
    return f"{settings.BILLING_CREDIT_NOTE_PREFIX}{year}-{sequence:06d}"


# --- tax -------------------------------------------------------------------


@dataclass(frozen=True)
class TaxDecision:
    name: str
    rate: Decimal
    reverse_charge: bool


NO_TAX = TaxDecision(name="", rate=Decimal("0.00"), reverse_charge=False)


def tax_decision(*, rate: TaxRate | None, country: str, vat_number: str) -> TaxDecision:
    """The tax on a sale to a customer in `country`.

    EU businesses with a VAT number in another member state than ours pay no VAT:
    the customer accounts for it (reverse charge, Council Directive 2006/112/EC art. 196).
    """
    if rate is None:
        return NO_TAX
    seller = settings.BILLING_SELLER_COUNTRY
    if rate.is_eu and _vat_number_of(country, vat_number) and country != seller:
        return TaxDecision(name=rate.name, rate=Decimal("0.00"), reverse_charge=True)
    return TaxDecision(name=rate.name, rate=rate.rate, reverse_charge=False)


def _vat_number_of(country: str, vat_number: str) -> bool:
    """Whether `vat_number` is a VAT number issued in `country`: its prefix is the
    country's code (Greece uses EL). A number from another state is not the
    customer's own and gives no reverse charge."""
    prefix = "EL" if country == "GR" else country
    return bool(vat_number) and bool(prefix) and vat_number.upper().startswith(prefix)


# --- building and issuing --------------------------------------------------


def period_line(
    *, product: Product, cycle: str, amount: int, start: dt.date, service: Service
) -> InvoiceLine:
    """The line billing `service` for one cycle from `start`, in the words every
    invoice uses ("Starter hosting (monthly), 01 Dec 2026 to 01 Jan 2027")."""
    end = BillingCycle.advance(start, cycle)
    return InvoiceLine(
        description=f"{product.name} ({BillingCycle(cycle).label.lower()}), "
        f"{start:%d %b %Y} to {end:%d %b %Y}",
        unit_amount=amount,
        amount=amount,
        service=service,
        period_start=start,
        period_end=end,
    )


def invoice_build(
    *,
    user: User,
    vat_number: str,
    rate: TaxRate | None,
    sequence: int,
    currency: str,
    subtotal: int,
    issued_on: dt.date,
    due_date: dt.date,
    order: Order | None = None,
) -> Invoice:
    """The unsaved invoice for `subtotal` to `user`: number, tax and the customer's
    details as they are now. One-off and renewal invoices are both made here."""
    tax = tax_decision(rate=rate, country=str(user.country), vat_number=vat_number)
    tax_amount = percent_of(subtotal, tax.rate)
    return Invoice(
        user=user,
        order=order,
        year=issued_on.year,
        sequence=sequence,
        number=invoice_number(issued_on.year, sequence),
        currency=currency,
        issued_on=issued_on,
        due_date=due_date,
        subtotal=subtotal,
        tax_amount=tax_amount,
        total=subtotal + tax_amount,
        tax_name=tax.name,
        tax_rate=tax.rate,
        reverse_charge=tax.reverse_charge,
        **customer_snapshot(user=user, vat_number=vat_number),
    )


def invoice_issue(
    *,
    user: User,
    order: Order | None,
    currency: str,
    lines: list[InvoiceLine],
    due_date: dt.date | None = None,
) -> Invoice:
    """Issues one invoice with `lines`, numbered today. Runs in the caller's
    transaction (which holds the number until it commits)."""
    account = billing_account_for(user=user)
    today = timezone.localdate()
    invoice = invoice_build(
        user=user,
        vat_number=account.vat_number,
        rate=TaxRate.objects.filter(country=user.country).first() if user.country else None,
        sequence=numbers_take(series="INV", year=today.year, count=1),
        currency=currency,
        subtotal=sum(line.amount for line in lines),
        issued_on=today,
        due_date=due_date or today,
        order=order,
    )
    invoice.save()
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    return invoice


def invoice_context(invoice: Invoice) -> dict[str, str]:
    """What every message about an invoice may say (plain strings, storable)."""
    return {
        "invoice_number": invoice.number,
        "invoice_total": format_money(invoice.total, invoice.currency),
        "due_date": invoice.due_date.isoformat(),
        "invoice_url": absolute_url(reverse("billing:invoice_detail", args=[invoice.pk])),
    }


# --- paid ------------------------------------------------------------------


def _services_paid_on(invoice: Invoice) -> None:
    """What paying `invoice` does to the services it bills: a new service starts being
    set up, a renewal extends the period (and lifts a suspension), and an upgrade it
    charged for takes effect. The panel follows on a worker (lifecycle.service_sync)."""
    job, reason = "invoice_mark_paid", f"invoice {invoice.number} paid"
    to_sync: list[int] = []
    lines = invoice.lines.filter(service__isnull=False, period_start__isnull=False)
    for line in lines.select_related("service"):
        service = (
            Service.objects.select_for_update(of=("self",))
            .select_related("product")
            .get(pk=line.service_id)
        )
        if service.status == ServiceStatus.PENDING:
            Service.objects.filter(pk=service.pk).update(next_due_date=line.period_end)
            lifecycle.service_start(service=service, job=job, reason=reason)
        elif service.next_due_date == line.period_start:
            # Paying the next period is choosing to keep the service.
            Service.objects.filter(pk=service.pk).update(
                next_due_date=line.period_end,
                cancel_at=None,
                cancel_when="",
                cancel_reason="",
                cancel_requested_at=None,
            )
            if service.status == ServiceStatus.SUSPENDED:
                lifecycle.service_transition(
                    service_id=service.pk, to=ServiceStatus.ACTIVE, job=job, reason=reason
                )
                to_sync.append(service.pk)
    for change in invoice.service_changes.filter(status=ChangeStatus.AWAITING_PAYMENT):
        lifecycle.service_change_apply(change=change)
    lifecycle.sync_later(to_sync)


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice) -> bool:
    """Marks a payable invoice paid and starts (or extends, or upgrades) its services.

    Idempotent: a conditional update means only the first call changes anything;
    it returns whether this call did.
    """
    updated = Invoice.objects.filter(pk=invoice.pk, status__in=PAYABLE_STATUSES).update(
        status=InvoiceStatus.PAID, paid_at=timezone.now()
    )
    if not updated:
        return False
    invoice.refresh_from_db()
    _services_paid_on(invoice)
    if invoice.order_id:
        Order.objects.filter(pk=invoice.order_id, status=OrderStatus.PENDING).update(
            status=OrderStatus.PAID
        )
    tell_customer(user=invoice.user, kind="billing-invoice-paid", context=invoice_context(invoice))
    return True


@dataclass(frozen=True)
class ManualLine:
    description: str
    quantity: int
    unit_amount: int


@transaction.atomic
def invoice_issue_manual(
    *, user: User, currency: str, lines: list[ManualLine], due_date: dt.date
) -> Invoice:
    """Issues an invoice staff wrote themselves: their lines, quantities and unit prices,
    numbered, taxed and addressed by the same builder as orders and renewals
    (invoice_issue: the customer's country rate, or the reverse charge). The customer
    is told once the transaction commits."""
    if not lines:
        raise ApplicationError("Add at least one line to the invoice.")
    invoice = invoice_issue(
        user=user,
        order=None,
        currency=currency,
        lines=[
            InvoiceLine(
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                amount=line.quantity * line.unit_amount,
            )
            for line in lines
        ],
        due_date=due_date,
    )
    tell_customer(user=user, kind="billing-invoice-issued", context=invoice_context(invoice))
    return invoice


# --- beat jobs -------------------------------------------------------------


def renewals_generate(*, today: dt.date, days_ahead: int, batch_size: int = 20_000) -> list[int]:
    """Issues the next invoice of every active service due within `days_ahead` days.

    Set-based: per batch one query picks services not yet invoiced for their next
    period and one reads their customers; on PostgreSQL a single INSERT ... SELECT then
    writes the invoices and their lines (elsewhere, two bulk inserts of the rows that
    invoice_build and period_line make: the same rows, a test compares them). Idempotent:
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
    while True:
        with transaction.atomic():
            DocumentCounter.objects.get_or_create(series="INV", year=today.year)
            DocumentCounter.objects.select_for_update().get(series="INV", year=today.year)
            batch = list(due.order_by("pk").values_list("pk", "user_id")[:batch_size])
            if not batch:
                return created
            users = User.objects.select_related("billing_account").in_bulk(
                {user_id for _, user_id in batch}
            )
            first = numbers_take(series="INV", year=today.year, count=len(batch))
            made = write(
                service_ids=[pk for pk, _ in batch],
                customers=[_renewal_customer(user, rates) for user in users.values()],
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


def _renewals_insert_sql(
    *, service_ids: list[int], customers: list[_RenewalCustomer], first: int, today: dt.date
) -> list[tuple[int, bool]]:
    params = {
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


def invoices_announce(*, invoice_ids: list[int], kind: str) -> None:
    """Tells each invoice's customer about it (one message per invoice)."""
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).select_related("user"):
        tell_customer(user=invoice.user, kind=kind, context=invoice_context(invoice))


@transaction.atomic
def invoices_mark_overdue(*, today: dt.date) -> list[int]:
    """Unpaid invoices past their due date become overdue. Idempotent; returns the ids
    changed by this run."""
    ids = list(
        Invoice.objects.select_for_update(skip_locked=True)
        .filter(status=InvoiceStatus.UNPAID, due_date__lt=today)
        .values_list("pk", flat=True)
    )
    Invoice.objects.filter(pk__in=ids, status=InvoiceStatus.UNPAID).update(
        status=InvoiceStatus.OVERDUE
    )
    return ids


@transaction.atomic
def services_suspend_overdue(*, today: dt.date, grace_days: int) -> list[int]:
    """Suspends active services whose invoice has been overdue more than `grace_days`,
    each change recorded, and queues the panel's suspension.

    Set-based and idempotent: returns the ids suspended by this run.
    """
    overdue_line = InvoiceLine.objects.filter(
        service=OuterRef("pk"),
        invoice__status=InvoiceStatus.OVERDUE,
        invoice__due_date__lt=today - dt.timedelta(days=grace_days),
    )
    ids = Service.objects.filter(status=ServiceStatus.ACTIVE).filter(Exists(overdue_line))
    suspended = lifecycle.services_transition(
        ids=ids.values_list("pk", flat=True),
        to=ServiceStatus.SUSPENDED,
        job="mark_overdue_and_suspend",
        reason=f"an invoice overdue more than {grace_days} days",
    )
    lifecycle.sync_later(suspended)
    return suspended


def services_announce_suspension(*, service_ids: list[int]) -> None:
    """Tells each customer which service was suspended and why."""
    for service in Service.objects.filter(pk__in=service_ids).select_related("user", "product"):
        tell_customer(
            user=service.user,
            kind="billing-service-suspended",
            context={
                "service_name": service.product.name,
                "invoices_url": absolute_url(reverse("billing:invoices")),
            },
        )


@transaction.atomic
def invoices_due_for_reminder(*, today: dt.date, days_before: int) -> list[int]:
    """Claims the unpaid invoices due within `days_before` days that had no reminder yet.

    The claim (reminder_sent_at) is written in the same statement, so a second run
    reminds nobody twice.
    """
    ids = list(
        Invoice.objects.select_for_update(skip_locked=True)
        .filter(
            status=InvoiceStatus.UNPAID,
            reminder_sent_at__isnull=True,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=days_before),
        )
        .values_list("pk", flat=True)
    )
    Invoice.objects.filter(pk__in=ids).update(reminder_sent_at=timezone.now())
    return ids
