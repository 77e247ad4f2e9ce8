"""Charges made by beat jobs: the daily auto-charge of default cards, and invoices
charged once their verification case is approved (verification holds)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from billing import gateway
from billing.models import (
    PAYABLE_STATUSES,
    HoldStatus,
    Invoice,
    Payment,
    PaymentMethod,
    PaymentStatus,
    VerificationHold,
)
from billing.notices import tell_customer
from core.exceptions import ApplicationError
from verification import selectors as verification_selectors
from verification.models import CaseStatus

from .invoices import invoice_context
from .payments import INTERRUPTED_AFTER, PaymentOutcome, invoice_pay

logger = logging.getLogger(__name__)


def verification_holds_settle() -> int:
    """Beat (every minute): charges the invoices whose verification case is approved.

    Verification never calls billing; billing reads the cases' states here. Each hold
    is claimed by a conditional update, so two runs never charge twice. When the charge
    does not go through, the customer is told to pay with one click in the client area.
    A hold whose invoice is no longer payable (paid with another card, cancelled) or
    whose case is gone is closed. Returns how many holds were settled.
    """
    holds = list(
        VerificationHold.objects.filter(status=HoldStatus.WAITING).select_related(
            "invoice__user", "payment_method"
        )
    )
    states = verification_selectors.case_states(case_ids=[hold.case_id for hold in holds])
    settled = 0
    for hold in holds:
        state = states.get(hold.case_id)
        if hold.invoice.is_payable and state != CaseStatus.APPROVED and state is not None:
            continue
        ready = hold.invoice.is_payable and state == CaseStatus.APPROVED
        outcome_status = HoldStatus.CHARGED if ready else HoldStatus.CLOSED
        claimed = VerificationHold.objects.filter(pk=hold.pk, status=HoldStatus.WAITING).update(
            status=outcome_status, settled_at=timezone.now()
        )
        if not claimed:
            continue
        settled += 1
        if ready:
            _hold_charge(hold=hold)
    return settled


def _hold_charge(*, hold: VerificationHold) -> None:
    invoice = hold.invoice
    reason = "The card was removed."
    if hold.payment_method is not None:
        try:
            outcome = invoice_pay(
                invoice=invoice, payment_method=hold.payment_method, off_session=True
            )
        except gateway.PaymentError as exc:
            if not exc.permanent:  # Stripe unreachable: the next run tries again
                VerificationHold.objects.filter(pk=hold.pk).update(
                    status=HoldStatus.WAITING, settled_at=None
                )
                return
            reason = exc.message
        except ApplicationError as exc:
            reason = exc.message
        else:
            status = outcome.payment.status
            if status in (PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING):
                return
            if status == PaymentStatus.FAILED:
                # payment_apply_intent has told the customer, with the bank's reason.
                VerificationHold.objects.filter(pk=hold.pk).update(status=HoldStatus.CHARGE_FAILED)
                return
            reason = "Your bank asks you to confirm the payment."
    VerificationHold.objects.filter(pk=hold.pk).update(status=HoldStatus.CHARGE_FAILED)
    logger.info("Charge of invoice %s after verification failed: %s", invoice.number, reason)
    tell_customer(
        user=invoice.user,
        kind="billing-verified-charge-failed",
        context={**invoice_context(invoice), "reason": reason},
    )


def invoices_to_auto_charge(*, today: dt.date, max_attempts: int) -> list[int]:
    """Payable invoices due today or earlier whose customer has a default card, with no
    attempt today, none in flight, and fewer than `max_attempts` attempts. One query."""
    default_card = PaymentMethod.objects.filter(user=OuterRef("user"), is_default=True)
    tried_today = Payment.objects.filter(invoice=OuterRef("pk"), created_at__date=today)
    busy = Payment.objects.filter(invoice=OuterRef("pk")).filter(
        Q(status=PaymentStatus.SUCCEEDED)
        | Q(status=PaymentStatus.PROCESSING, stripe_payment_intent_id__gt="")
        | Q(
            status=PaymentStatus.PROCESSING,
            created_at__gte=timezone.now() - INTERRUPTED_AFTER,
        )
    )
    return list(
        Invoice.objects.filter(status__in=PAYABLE_STATUSES, due_date__lte=today, total__gt=0)
        .filter(Exists(default_card))
        .exclude(Exists(tried_today))
        .exclude(Exists(busy))
        .annotate(attempts=Count("payments"))
        .filter(attempts__lt=max_attempts)
        .values_list("pk", flat=True)
    )


def invoice_auto_charge(*, invoice_id: int) -> PaymentOutcome | None:
    """Charges the customer's default card off-session. When the bank asks for
    authentication, the customer is told to pay in the client area.

    A refused or failed attempt is logged, not raised: the next day's run tries again
    (up to BILLING_AUTO_CHARGE_MAX_ATTEMPTS), never the same day.
    """
    invoice = Invoice.objects.select_related("user").get(pk=invoice_id)
    if invoice.user_id is None or not invoice.is_payable:
        return None
    card = PaymentMethod.objects.filter(user_id=invoice.user_id, is_default=True).first()
    if card is None:
        return None
    try:
        return invoice_pay(invoice=invoice, payment_method=card, off_session=True)
    except ApplicationError as exc:
        logger.info("Auto-charge of invoice %s failed: %s", invoice.number, exc.message)
        return None
