"""Refunds and credit notes: one credit note per Stripe refund, whether staff refund
here or in Stripe's dashboard."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing import gateway, stripe_payloads
from billing.models import CreditNote, Invoice, InvoiceStatus, PaymentStatus
from billing.money import format_money
from billing.notices import tell_customer
from core.exceptions import ApplicationError

from .credit import credit_return_for_refund
from .invoices import credit_note_number, invoice_context, numbers_take
from .payments import payment_for_intent

logger = logging.getLogger(__name__)

# Refunds that gave nothing back; a pending one counts, as in the charge's amount_refunded.
UNDONE = {"failed", "canceled"}


def _credited(invoice: Invoice) -> int:
    return invoice.credit_notes.aggregate(total=Sum("amount"))["total"] or 0


def invoice_refund(*, invoice: Invoice, amount: int | None = None, reason: str = "") -> CreditNote:
    """Refunds (part of) a paid invoice through Stripe and issues the credit note.

    The idempotency key names the invoice and what was already credited, so a
    double click refunds once; charge.refunded arriving later finds the note.
    """
    payment = invoice.payments.filter(status=PaymentStatus.SUCCEEDED).first()
    if invoice.status != InvoiceStatus.PAID or payment is None:
        raise ApplicationError("Only an invoice paid by card can be refunded.")
    credited = _credited(invoice)
    remaining = invoice.total - credited
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise ApplicationError(
            f"The refund must be between 0.01 and {format_money(remaining, invoice.currency)}."
        )
    refund = gateway.refund_create(
        payment_intent_id=payment.stripe_payment_intent_id,
        amount=amount,
        # PaymentIntent ids are unique at Stripe, so the key is too.
        idempotency_key=f"refund-{payment.stripe_payment_intent_id}-after-{credited}-{amount}",
    )
    return credit_note_issue(
        invoice=invoice, amount=amount, stripe_refund_id=refund.id, reason=reason
    )


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, amount: int, stripe_refund_id: str, reason: str = ""
) -> CreditNote:
    """The credit note for one Stripe refund (idempotent by refund id); the invoice becomes
    refunded once fully credited."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    existing = CreditNote.objects.filter(stripe_refund_id=stripe_refund_id).first()
    if existing is not None:
        return existing
    credited = _credited(locked)
    amount = min(amount, locked.total - credited)
    if amount <= 0:
        raise ApplicationError("This invoice has been credited in full already.")
    today = timezone.localdate()
    sequence = numbers_take(series="CN", year=today.year, count=1)
    note = CreditNote.objects.create(
        invoice=locked,
        year=today.year,
        sequence=sequence,
        number=credit_note_number(today.year, sequence),
        amount=amount,
        currency=locked.currency,
        reason=reason[:255],
        stripe_refund_id=stripe_refund_id,
        issued_on=today,
    )
    if credited + amount >= locked.total:
        locked.status = InvoiceStatus.REFUNDED
        locked.save(update_fields=["status"])
        credit_return_for_refund(invoice=locked)
    tell_customer(
        user=locked.user,
        kind="billing-credit-note-issued",
        context={
            **invoice_context(locked),
            "credit_note_number": note.number,
            "credit_amount": format_money(note.amount, note.currency),
        },
    )
    return note


def credit_notes_follow_charge(*, charge: stripe_payloads.Charge) -> None:
    """charge.refunded, for a refund made here or in Stripe's dashboard: one credit note
    per refund not credited yet, for that refund's amount. Idempotent by refund id.

    Charge objects of current API versions carry no refund list; when the payload's
    list does not account for amount_refunded, the refunds are read from Stripe, so
    every credit note names its real refund and a later call for the same refund
    (the admin's own, arriving second) finds it.
    """
    payment = payment_for_intent(payment_intent_id=charge.payment_intent_id)
    if payment is None:
        return
    invoice = payment.invoice
    if charge.amount_refunded <= _credited(invoice):
        return
    refunds = charge.refunds
    if sum(r.amount for r in refunds if r.status not in UNDONE) < charge.amount_refunded:
        refunds = gateway.refund_list(payment_intent_id=payment.stripe_payment_intent_id)
    known = set(invoice.credit_notes.values_list("stripe_refund_id", flat=True))
    for refund in refunds:
        if refund.id in known or refund.status in UNDONE or refund.amount <= 0:
            continue
        try:
            credit_note_issue(
                invoice=invoice,
                amount=refund.amount,
                stripe_refund_id=refund.id,
                reason="Refunded through Stripe",
            )
        except ApplicationError:
            logger.info("Invoice %s is credited in full already.", invoice.number)
            return
