"""Upgrades and downgrades between products of one group, prorated by one rule.

The rule (docs/billing.md, "Upgrades and downgrades"): the paid period runs from one
cycle before the next due date to the next due date, `total` days, of which `left`
remain from today. Switching from price `old` to price `new` (same currency and
cycle) is worth (new − old) × left ÷ total, rounded half away from zero to a whole
minor unit. Positive: an invoice for that amount, and the change (and the panel's
package) happens when it is paid. Negative: the change happens at once and the
difference goes to the customer's credit balance (billing.services.credit), which the
next invoices take first. From the next period the new price is billed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import QuerySet

from billing.models import (
    PAYABLE_STATUSES,
    BillingCycle,
    ChangeStatus,
    InvoiceLine,
    InvoiceStatus,
    Price,
    Product,
    Service,
    ServiceChange,
    ServiceStatus,
)
from billing.notices import tell_customer
from core.exceptions import ApplicationError

from . import lifecycle
from .credit import credit_add_for_downgrade, credit_apply
from .invoices import invoice_context, invoice_issue


def prorate(*, old_amount: int, new_amount: int, days_left: int, days_total: int) -> int:
    """(new − old) × left ÷ total, rounded half away from zero: > 0 to pay, < 0 credit."""
    if days_total <= 0:
        raise ValueError("A period has at least one day.")
    left = min(max(days_left, 0), days_total)
    difference = new_amount - old_amount
    magnitude = (abs(difference) * left * 2 + days_total) // (2 * days_total)
    return magnitude if difference >= 0 else -magnitude


@dataclass(frozen=True)
class ChangeQuote:
    product: Product
    price: Price
    amount: int  # prorate(): > 0 invoiced, < 0 credited
    period_start: dt.date
    period_end: dt.date

    @property
    def credit(self) -> int:
        """What a downgrade adds to the customer's credit balance."""
        return max(-self.amount, 0)


def change_options(*, service: Service) -> QuerySet[Product]:
    """Active products of the service's group with a price in its currency and cycle."""
    if not service.product.group:
        return Product.objects.none()
    return (
        Product.objects.filter(
            group=service.product.group,
            is_active=True,
            prices__currency=service.currency,
            prices__cycle=service.cycle,
        )
        .exclude(pk=service.product_id)
        .order_by("sort_order", "name")
    )


def change_quote(*, service: Service, product: Product, today: dt.date) -> ChangeQuote:
    """What moving `service` to `product` today costs or credits, by the rule above."""
    if service.status != ServiceStatus.ACTIVE or service.next_due_date is None:
        raise ApplicationError("Only an active service can change plan.")
    if not change_options(service=service).filter(pk=product.pk).exists():
        raise ApplicationError("That plan is not available for this service.")
    price = Price.objects.get(product=product, currency=service.currency, cycle=service.cycle)
    period_end = service.next_due_date
    period_start = period_end - relativedelta(months=BillingCycle.months(service.cycle))
    days_total = (period_end - period_start).days
    amount = prorate(
        old_amount=service.amount,
        new_amount=price.amount,
        days_left=(period_end - today).days,
        days_total=days_total,
    )
    return ChangeQuote(
        product=product,
        price=price,
        amount=amount,
        period_start=period_start,
        period_end=period_end,
    )


@transaction.atomic
def service_change_request(*, service: Service, product: Product, today: dt.date) -> ServiceChange:
    """Asks for an upgrade or downgrade. An upgrade issues its prorated invoice and waits
    for payment; a downgrade (or a change costing nothing) applies at once."""
    locked = Service.objects.select_for_update().select_related("product").get(pk=service.pk)
    if locked.cancel_at is not None:
        raise ApplicationError("This service is being cancelled; undo that first.")
    if locked.changes.filter(status=ChangeStatus.AWAITING_PAYMENT).exists():
        raise ApplicationError("A plan change is already waiting for payment.")
    unpaid = (
        InvoiceLine.objects.filter(service=locked, invoice__status__in=PAYABLE_STATUSES)
        .values_list("invoice__number", flat=True)
        .first()
    )
    if unpaid is not None:
        raise ApplicationError(f"Pay invoice {unpaid} first, then change plan.")
    quote = change_quote(service=locked, product=product, today=today)
    change = ServiceChange.objects.create(
        service=locked,
        from_product=locked.product,
        to_product=product,
        from_amount=locked.amount,
        to_amount=quote.price.amount,
        charge=max(quote.amount, 0),
        credit=quote.credit,
        status=ChangeStatus.AWAITING_PAYMENT,
    )
    if quote.amount > 0:
        invoice = invoice_issue(
            user=locked.user,
            order=None,
            currency=locked.currency,
            lines=[
                InvoiceLine(
                    description=f"Change from {locked.product.name} to {product.name}, "
                    f"{today:%d %b %Y} to {quote.period_end:%d %b %Y} (prorated)",
                    unit_amount=quote.amount,
                    amount=quote.amount,
                    service=locked,
                )
            ],
        )
        ServiceChange.objects.filter(pk=change.pk).update(invoice=invoice)
        change.invoice = invoice
        credit_apply(invoice_id=invoice.pk)  # paid at once when the credit covers it
        invoice.refresh_from_db()
        if invoice.status == InvoiceStatus.UNPAID:
            tell_customer(
                user=locked.user, kind="billing-invoice-issued", context=invoice_context(invoice)
            )
    else:
        lifecycle.service_change_apply(change=change)
        credit_add_for_downgrade(
            service=locked,
            amount=quote.credit,
            note=f"Change from {locked.product.name} to {product.name} on {today:%d %b %Y} "
            f"(prorated to {quote.period_end:%d %b %Y})",
        )
        change.refresh_from_db()
    return change
