"""Invoices settled by staff rather than by card: money received by bank transfer,
marking paid outside Stripe, and cancelling an unpaid invoice, each without a double
charge (a card payment waiting for 3D Secure is cancelled at Stripe first)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from billing.models import (
    PAYABLE_STATUSES,
    ChangeStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethodKind,
    PaymentStatus,
    Service,
    ServiceStatus,
)
from billing.money import format_money
from core.exceptions import ApplicationError

from . import lifecycle
from .invoices import invoice_mark_paid
from .payments import payments_fail_interrupted, payments_supersede_awaiting_action


def invoice_record_bank_transfer(
    *, invoice: Invoice, amount: int, reference: str, received_on: dt.date
) -> Payment:
    """Records money received by bank transfer (the bank's reference and date) as a
    succeeded payment and marks the invoice paid, starting its services.

    The amount must be the invoice's total: part payments are not booked. As with
    marking paid by hand, a card payment waiting for 3D Secure is cancelled at Stripe
    first and one in progress makes this fail, so the customer is not charged twice.
    """
    if amount != invoice.total:
        raise ApplicationError(
            f"The transfer ({format_money(amount, invoice.currency)}) must match the invoice "
            f"total ({format_money(invoice.total, invoice.currency)})."
        )
    payments_supersede_awaiting_action(invoice=invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.status not in PAYABLE_STATUSES:
            raise ApplicationError(f"Invoice {locked.number} is not awaiting payment.")
        payments_fail_interrupted(invoice=locked)
        if locked.payments.filter(
            status__in=[PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION]
        ).exists():
            raise ApplicationError(
                f"A card payment of invoice {locked.number} is in progress; wait for it to settle."
            )
        last = locked.payments.order_by("-attempt").values_list("attempt", flat=True).first()
        payment = Payment.objects.create(
            invoice=locked,
            attempt=(last or 0) + 1,
            method=PaymentMethodKind.BANK_TRANSFER,
            reference=reference,
            received_on=received_on,
            amount=amount,
            currency=locked.currency,
            status=PaymentStatus.SUCCEEDED,
        )
        invoice_mark_paid(invoice=locked)
    return payment


def invoice_mark_paid_outside_stripe(*, invoice: Invoice) -> bool:
    """Staff record money received another way (bank transfer). As with cancelling, a
    card payment waiting for 3D Secure is cancelled at Stripe first and one already
    processing makes this fail, so the customer is not charged twice."""
    payments_supersede_awaiting_action(invoice=invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        payments_fail_interrupted(invoice=locked)
        if locked.payments.filter(
            status__in=[PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION]
        ).exists():
            raise ApplicationError(
                f"A card payment of invoice {locked.number} is in progress; wait for it to settle."
            )
        return invoice_mark_paid(invoice=locked)


def invoice_cancel(*, invoice: Invoice) -> bool:
    """Cancels an unpaid invoice and ends the services it bills: a new order's pending
    services, and services whose next period it was the bill for (otherwise they would
    run on unbilled, since that period is never invoiced again). Idempotent.

    A card payment still waiting for 3D Secure is cancelled at Stripe first, so the
    customer cannot complete it afterwards; one already on its way to the bank makes
    the cancellation fail (ApplicationError) rather than take money for nothing.
    """
    payments_supersede_awaiting_action(invoice=invoice)
    return _invoice_cancel(invoice=invoice)


@transaction.atomic
def _invoice_cancel(*, invoice: Invoice) -> bool:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status not in PAYABLE_STATUSES:
        return False
    payments_fail_interrupted(invoice=locked)
    if locked.payments.filter(
        status__in=[PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION]
    ).exists():
        raise ApplicationError(
            f"A card payment of invoice {locked.number} is in progress; "
            "cancel it once the payment has settled."
        )
    updated = Invoice.objects.filter(pk=invoice.pk, status__in=PAYABLE_STATUSES).update(
        status=InvoiceStatus.CANCELLED
    )
    if updated:
        billed_period = InvoiceLine.objects.filter(
            invoice=invoice, service=OuterRef("pk"), period_start=OuterRef("next_due_date")
        )
        ended = Service.objects.filter(
            Q(status=ServiceStatus.PENDING, invoice_lines__invoice=invoice)
            | Q(
                Exists(billed_period),
                status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED],
            )
        ).values_list("pk", flat=True)
        cancelled = lifecycle.services_transition(
            ids=ended,
            to=ServiceStatus.CANCELLED,
            job="invoice_cancel",
            reason=f"invoice {locked.number} cancelled",
        )
        # Services that ran on a panel are removed from it; pending ones had nothing.
        lifecycle.sync_later(cancelled)
        invoice.service_changes.filter(status=ChangeStatus.AWAITING_PAYMENT).update(
            status=ChangeStatus.CANCELLED
        )
        if invoice.order_id:
            Order.objects.filter(pk=invoice.order_id, status=OrderStatus.PENDING).update(
                status=OrderStatus.CANCELLED
            )
    return bool(updated)
