"""Invoices: numbering, tax, the one invoice builder (shared with renewals), issuing,
staff's manual invoices, marking paid, and telling customers about invoices. The beat
jobs are in renewals and dunning."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import F
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
        service_id = cast(int, line.service_id)  # lines without a service are filtered out
        service = (
            Service.objects.select_for_update(of=("self",))
            .select_related("product")
            .get(pk=service_id)
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


def invoices_announce(*, invoice_ids: list[int], kind: str) -> None:
    """Tells each invoice's customer about it (one message per invoice)."""
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).select_related("user"):
        tell_customer(user=invoice.user, kind=kind, context=invoice_context(invoice))
