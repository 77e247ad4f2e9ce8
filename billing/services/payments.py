"""Paying invoices by card: the charge (after asking verification), settling a payment
from Stripe's state, flagging money that came in for an invoice no longer payable, and
disputes. Staff's own settlements are in manual_payments, beat-driven charges in
scheduled_charges."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing import gateway, stripe_payloads
from billing.models import (
    BillingAccount,
    HoldStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    VerificationHold,
)
from billing.money import format_money
from billing.notices import tell_customer, tell_staff
from core.exceptions import ApplicationError
from core.links import absolute_url
from verification import services as verification
from verification.models import RiskSubject
from verification.risk import Risk, Visitor

from .customers import stripe_customer_ensure
from .invoices import invoice_context, invoice_mark_paid

logger = logging.getLogger(__name__)


class VerificationRequired(ApplicationError):
    """The card may not be charged before verification case `case_id` is approved; the
    invoice waits (a VerificationHold) and nothing was charged."""

    def __init__(self, message: str, *, case_id: int) -> None:
        super().__init__(message)
        self.case_id = case_id


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    client_secret: str  # set when the customer must authenticate in the page


_STATUS_FROM_INTENT = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "requires_confirmation": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_payment_method": PaymentStatus.FAILED,
    "canceled": PaymentStatus.FAILED,
}

# An attempt recorded but never sent to Stripe (the process stopped in between) stops
# blocking new attempts after this long. Should Stripe have charged it after all, its
# payment_intent.succeeded webhook still finds the attempt by metadata and settles it.
INTERRUPTED_AFTER = dt.timedelta(minutes=15)
INTERRUPTED_MESSAGE = "The payment was interrupted before it reached the bank."


# --- paying ----------------------------------------------------------------


def invoice_pay(
    *,
    invoice: Invoice,
    payment_method: PaymentMethod,
    off_session: bool = False,
    visitor: Visitor | None = None,
) -> PaymentOutcome:
    """Charges `payment_method` for `invoice` through a PaymentIntent.

    Verification is asked first (`verification.services.card_charge_check`): when the
    card must be checked, nothing is charged, the invoice waits (VerificationRequired).
    Each attempt is a Payment row whose idempotency key ("invoice-<id>-attempt-<n>")
    Stripe sees, so a retried request never charges twice. The attempt is recorded
    before the call and settled after it, outside any lock. A broken rule or a call
    Stripe refused raises ApplicationError (gateway.PaymentError is one).
    """
    if invoice.user is None or payment_method.user_id != invoice.user_id:
        raise ApplicationError("This card does not belong to the invoice's customer.")
    if not invoice.is_payable:
        raise ApplicationError("This invoice has nothing left to pay.")
    assessment = _verification_gate(
        invoice=invoice, user=invoice.user, payment_method=payment_method, visitor=visitor
    )
    customer_id = stripe_customer_ensure(user=invoice.user)
    payments_supersede_awaiting_action(invoice=invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not locked.is_payable:
            raise ApplicationError("This invoice has nothing left to pay.")
        payments_fail_interrupted(invoice=locked)
        if locked.payments.filter(
            status__in=[PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED]
        ).exists():
            raise ApplicationError("A payment for this invoice is already in progress.")
        attempt = (
            locked.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
        ) + 1
        payment = Payment.objects.create(
            invoice=locked,
            attempt=attempt,
            amount=locked.total,
            currency=locked.currency,
            off_session=off_session,
        )
        verification.risk_record(
            user=invoice.user,
            subject=RiskSubject.PAYMENT,
            subject_id=payment.pk,
            assessment=assessment,
        )
    try:
        intent = gateway.payment_intent_create(
            amount=payment.amount,
            currency=payment.currency,
            customer_id=customer_id,
            payment_method_id=payment_method.stripe_payment_method_id,
            idempotency_key=payment.idempotency_key,
            off_session=off_session,
            metadata={
                "invoice_id": str(invoice.pk),
                "payment_id": str(payment.pk),
                "invoice_number": invoice.number,
            },
        )
    except gateway.PaymentError as exc:
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.FAILED, failure_message=exc.message[:255]
        )
        raise
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id="").update(
            stripe_payment_intent_id=intent.id
        )
        payment = payment_apply_intent(intent=intent) or payment
        verification.risk_add_radar(
            subject_id=payment.pk, risk_level=intent.risk_level, risk_score=intent.risk_score
        )
    client_secret = intent.client_secret if payment.status == PaymentStatus.REQUIRES_ACTION else ""
    return PaymentOutcome(payment=payment, client_secret=client_secret)


def _verification_gate(
    *, invoice: Invoice, user: User, payment_method: PaymentMethod, visitor: Visitor | None
) -> Risk:
    """Asks verification whether the card may be charged; when not, records the hold
    (one waiting hold per invoice) and raises VerificationRequired."""
    first_card_payment = not Payment.objects.filter(
        invoice__user=user, status=PaymentStatus.SUCCEEDED
    ).exists()
    check = verification.card_charge_check(
        user=user,
        card=verification.CardFacts(
            fingerprint=payment_method.fingerprint,
            brand=payment_method.brand,
            last4=payment_method.last4,
            country=payment_method.country,
            three_d_secure_supported=payment_method.three_d_secure_supported,
        ),
        first_card_payment=first_card_payment,
        visitor=visitor,
    )
    if check.allowed or check.case_id is None:
        return check.risk
    with transaction.atomic():
        Invoice.objects.select_for_update().filter(pk=invoice.pk).exists()
        VerificationHold.objects.update_or_create(
            invoice=invoice,
            status=HoldStatus.WAITING,
            defaults={"payment_method": payment_method, "case_id": check.case_id},
        )
    logger.info("Invoice %s waits for verification case %s.", invoice.number, check.case_id)
    raise VerificationRequired(
        "Before we charge this card, we need a picture of it and of your ID.",
        case_id=check.case_id,
    )


def payments_fail_interrupted(*, invoice: Invoice) -> None:
    invoice.payments.filter(
        status=PaymentStatus.PROCESSING,
        stripe_payment_intent_id="",
        created_at__lt=timezone.now() - INTERRUPTED_AFTER,
    ).update(status=PaymentStatus.FAILED, failure_message=INTERRUPTED_MESSAGE)


def payments_supersede_awaiting_action(*, invoice: Invoice) -> None:
    """Cancels at Stripe the earlier attempts still waiting for authentication.

    Left alone, such an intent can still be confirmed (another tab, a late 3D Secure
    page) after a new attempt succeeds, and the customer would pay twice. One that
    can no longer be cancelled is read back and applied: if it succeeded, the invoice
    is paid and the new attempt is refused.
    """
    pending = invoice.payments.filter(status=PaymentStatus.REQUIRES_ACTION).exclude(
        stripe_payment_intent_id=""
    )
    for payment in pending:
        try:
            intent = gateway.payment_intent_cancel(
                payment_intent_id=payment.stripe_payment_intent_id
            )
        except gateway.PaymentError:
            intent = gateway.payment_intent_retrieve(
                payment_intent_id=payment.stripe_payment_intent_id
            )
        applied = payment_apply_intent(intent=intent)
        if applied is not None and applied.status == PaymentStatus.REQUIRES_ACTION:
            raise ApplicationError("A payment for this invoice is already in progress.")


# --- settling --------------------------------------------------------------


@transaction.atomic
def payment_apply_intent(*, intent: stripe_payloads.PaymentIntent) -> Payment | None:
    """Brings our Payment (and its invoice) in line with a PaymentIntent's state.

    Safe in any order and any number of times: a succeeded payment never goes back,
    and the invoice is marked paid by a conditional update. Returns None for an
    intent we did not create.
    """
    if not intent.id:
        return None
    payment = (
        Payment.objects.select_for_update()
        .select_related("invoice")
        .filter(stripe_payment_intent_id=intent.id)
        .first()
    )
    if payment is None and intent.metadata.get("payment_id", "").isdigit():
        payment = (
            Payment.objects.select_for_update()
            .select_related("invoice")
            .filter(
                pk=int(intent.metadata["payment_id"]), stripe_payment_intent_id__in=["", intent.id]
            )
            .first()
        )
    if payment is None:
        return None
    mismatch = _intent_mismatch(payment=payment, intent=intent)
    if mismatch:
        # Not the charge we asked for (another environment sharing the Stripe account,
        # or an intent changed at Stripe): it must not settle this invoice.
        logger.error(
            "PaymentIntent %s not applied to payment %s: %s.", intent.id, payment.pk, mismatch
        )
        return None
    if not payment.stripe_payment_intent_id:
        payment.stripe_payment_intent_id = intent.id
        payment.save(update_fields=["stripe_payment_intent_id"])
    new_status = _STATUS_FROM_INTENT.get(intent.status)
    if new_status is None or payment.status == PaymentStatus.SUCCEEDED:
        return payment
    fields = ["status"]
    payment.status = new_status
    if intent.charge_id:
        payment.stripe_charge_id = intent.charge_id
        fields.append("stripe_charge_id")
    if new_status == PaymentStatus.FAILED:
        payment.failure_message = (intent.failure_message or "The payment did not go through.")[
            :255
        ]
        fields.append("failure_message")
    payment.save(update_fields=fields)
    if new_status == PaymentStatus.SUCCEEDED:
        if not invoice_mark_paid(invoice=payment.invoice):
            payment_flag_for_refund(payment=payment)
    elif new_status == PaymentStatus.FAILED and payment.off_session:
        tell_customer(
            user=payment.invoice.user,
            kind="billing-payment-failed",
            context={**invoice_context(payment.invoice), "reason": payment.failure_message},
        )
    return payment


def payment_refresh(*, payment: Payment) -> Payment:
    """Reads the payment's intent from Stripe and applies it (after the customer
    authenticated in the page). As safe to repeat as payment_apply_intent."""
    intent = gateway.payment_intent_retrieve(payment_intent_id=payment.stripe_payment_intent_id)
    return payment_apply_intent(intent=intent) or payment


def _intent_mismatch(*, payment: Payment, intent: stripe_payloads.PaymentIntent) -> str:
    """Why `intent` is not the charge recorded as `payment` ("" when it is)."""
    if intent.amount != payment.amount or intent.currency != payment.currency:
        return (
            f"Stripe has {intent.amount} {intent.currency}, "
            f"we asked for {payment.amount} {payment.currency}"
        )
    if intent.customer_id and payment.invoice.user_id is not None:
        ours = (
            BillingAccount.objects.filter(user_id=payment.invoice.user_id)
            .values_list("stripe_customer_id", flat=True)
            .first()
        )
        # After an erasure we no longer know the customer: amount and currency decide.
        if ours and intent.customer_id != ours:
            return "the intent belongs to another Stripe customer"
    return ""


def payment_flag_for_refund(*, payment: Payment) -> bool:
    """Money came in for an invoice that was paid another way or cancelled meanwhile:
    flags the payment "needs refund" and tells staff, once per payment (a conditional
    update, so a redelivered webhook or a second caller does nothing)."""
    now = timezone.now()
    flagged = Payment.objects.filter(pk=payment.pk, needs_refund_since__isnull=True).update(
        needs_refund=True, needs_refund_since=now
    )
    if not flagged:
        return False
    payment.needs_refund, payment.needs_refund_since = True, now
    invoice_status = Invoice.objects.values_list("status", flat=True).get(pk=payment.invoice_id)
    logger.error(
        "Payment %s succeeded on invoice %s, which is %s: refund it in Stripe.",
        payment.pk,
        payment.invoice.number,
        invoice_status,
    )
    tell_staff(
        kind="billing-staff-payment-needs-refund",
        context={
            "invoice_number": payment.invoice.number,
            "invoice_status": InvoiceStatus(invoice_status).label.lower(),
            "amount": format_money(payment.amount, payment.currency),
            "payment_intent": payment.stripe_payment_intent_id,
            "payment_admin_url": absolute_url(
                reverse("admin:billing_payment_change", args=[payment.pk])
            ),
        },
    )
    return True


def payment_refund_handled(*, payments: QuerySet[Payment]) -> int:
    """Staff refunded these flagged payments in Stripe; `needs_refund_since` stays as the
    record (and keeps a redelivered event from flagging them again)."""
    return payments.filter(needs_refund=True).update(needs_refund=False)


def payment_for_intent(*, payment_intent_id: str) -> Payment | None:
    """Our payment made through this PaymentIntent, with its invoice."""
    if not payment_intent_id:
        return None
    return (
        Payment.objects.select_related("invoice")
        .filter(stripe_payment_intent_id=payment_intent_id)
        .first()
    )


def payment_for_dispute(*, dispute: stripe_payloads.Dispute) -> Payment | None:
    """The payment a dispute is about: by its PaymentIntent, else by the charge (Stripe
    leaves `payment_intent` null on disputes of charges made without one)."""
    payment = payment_for_intent(payment_intent_id=dispute.payment_intent_id)
    if payment is None and dispute.charge_id:
        payment = Payment.objects.filter(stripe_charge_id=dispute.charge_id).first()
    return payment


@transaction.atomic
def payment_follow_dispute(*, dispute: stripe_payloads.Dispute, at: dt.datetime) -> bool:
    """Moves the payment's dispute towards Stripe's state (charge.dispute.created,
    .updated, .closed); True when something changed. `at` is when Stripe sent the event.

    Idempotent and safe in any order, as Stripe does not promise order: a closed dispute
    (won, lost, warning_closed, prevented) is final, so a late event about an earlier
    state changes nothing; a closing event that comes first records the opening too. A
    dispute with another id replaces the one recorded only when Stripe opened it later
    (an inquiry that closed and came back as a chargeback), never an older one.
    """
    found = payment_for_dispute(dispute=dispute)
    if found is None:
        logger.warning("Stripe dispute %s is about no payment of ours.", dispute.id)
        return False
    payment = Payment.objects.select_for_update().select_related("invoice").get(pk=found.pk)
    opened = dispute.created or at
    if payment.stripe_dispute_id and dispute.id and dispute.id != payment.stripe_dispute_id:
        if payment.disputed_at is not None and opened <= payment.disputed_at:
            return False  # about an older dispute than the one recorded
        payment.dispute_closed_at = None
        payment.dispute_outcome = ""
        payment.disputed_at = None
    elif payment.dispute_closed_at is not None:
        return False  # closed is final: a repeat, or an earlier state arriving late
    before = (payment.disputed_at, payment.dispute_status, payment.dispute_closed_at)
    payment.stripe_dispute_id = dispute.id or payment.stripe_dispute_id
    payment.disputed_at = payment.disputed_at or opened
    payment.dispute_status = dispute.status[:30]
    if dispute.is_closed:
        payment.dispute_closed_at = at
        payment.dispute_outcome = dispute.status
    if before == (payment.disputed_at, payment.dispute_status, payment.dispute_closed_at):
        return False
    payment.save(
        update_fields=[
            "stripe_dispute_id",
            "disputed_at",
            "dispute_status",
            "dispute_closed_at",
            "dispute_outcome",
        ]
    )
    logger.warning(
        "The dispute of the payment of invoice %s (%s) is %s.",
        payment.invoice.number,
        dispute.reason,
        dispute.status or "open",
    )
    return True
