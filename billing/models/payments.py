"""Saved cards, payments and their disputes, and Stripe's side: events received,
verification holds, customers to delete at Stripe."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .catalogue import Currency
from .invoices import Invoice


class PaymentMethod(models.Model):
    """A card saved at Stripe. We keep Stripe's ids and what the card looks like, never
    the card number."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_methods"
    )
    stripe_payment_method_id = models.CharField(max_length=255, unique=True)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    country = models.CharField(max_length=2, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    three_d_secure_supported = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="billing_one_default_card"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand.title()} •••• {self.last4}"


class PaymentStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    REQUIRES_ACTION = "requires_action", "Needs authentication"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PaymentMethodKind(models.TextChoices):
    CARD = "card", "Card (Stripe)"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"


class DisputeOutcome(models.TextChoices):
    """How a closed dispute ended (Stripe's closing statuses)."""

    WON = "won", "Won"
    LOST = "lost", "Lost"
    WARNING_CLOSED = "warning_closed", "Inquiry closed without a chargeback"
    PREVENTED = "prevented", "Prevented"


# A dispute is open from Stripe's first word of it until Stripe says it closed.
OPEN_DISPUTE = Q(disputed_at__isnull=False, dispute_closed_at__isnull=True)


class Payment(models.Model):
    """One attempt to pay an invoice: through a Stripe PaymentIntent, or money received
    by bank transfer that staff recorded (with the bank's reference and date)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    attempt = models.PositiveIntegerField()
    method = models.CharField(
        max_length=20, choices=PaymentMethodKind.choices, default=PaymentMethodKind.CARD
    )
    reference = models.CharField(
        max_length=140, blank=True, help_text="The bank transfer's reference, as on the statement."
    )
    received_on = models.DateField(null=True, blank=True, help_text="When the money arrived.")
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PROCESSING
    )
    failure_message = models.CharField(max_length=255, blank=True)
    off_session = models.BooleanField(default=False)
    disputed_at = models.DateTimeField(null=True, blank=True, help_text="When it was disputed.")
    stripe_dispute_id = models.CharField(max_length=255, blank=True)
    dispute_status = models.CharField(max_length=30, blank=True, help_text="Stripe's last word.")
    dispute_closed_at = models.DateTimeField(null=True, blank=True)
    dispute_outcome = models.CharField(
        max_length=20, choices=DisputeOutcome.choices, blank=True, default=""
    )
    # Money that came in for an invoice no longer payable (cancelled or paid another way
    # meanwhile): staff refund it in Stripe, then clear the flag in admin.
    needs_refund = models.BooleanField("needs refund", default=False)
    needs_refund_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(needs_refund=True),
                name="billing_pay_needs_refund",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "attempt"], name="billing_payment_attempt"),
            models.UniqueConstraint(
                fields=["stripe_payment_intent_id"],
                condition=~Q(stripe_payment_intent_id=""),
                name="billing_payment_intent_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.invoice.number} #{self.attempt}"

    @property
    def idempotency_key(self) -> str:
        """Stable for this attempt; the creation time keeps keys apart across databases
        that share one Stripe account (development, staging) within Stripe's 24 hours."""
        return (
            f"invoice-{self.invoice_id}-attempt-{self.attempt}-"
            f"{int(self.created_at.timestamp() * 1_000_000)}"
        )


class StripeEvent(models.Model):
    """Every webhook event Stripe sent us, stored once by its id."""

    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["event_id"], name="billing_stripe_event_once"),
        ]
        indexes = [models.Index(fields=["type", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class HoldStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for verification"
    CHARGED = "charged", "Charged after approval"
    CHARGE_FAILED = "charge_failed", "Charge after approval failed"
    CLOSED = "closed", "Closed (paid another way or cancelled)"


class VerificationHold(models.Model):
    """An invoice not charged because verification asked to check the card first.

    `case_id` is verification's case, by plain id (verification knows no invoices).
    billing.services.scheduled_charges.verification_holds_settle reads the case's state and
    charges the card once the case is approved.
    """

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="verification_holds"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    case_id = models.PositiveBigIntegerField()
    status = models.CharField(max_length=15, choices=HoldStatus.choices, default=HoldStatus.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(status="waiting"),
                name="billing_one_waiting_hold_per_invoice",
            )
        ]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.invoice} waits for verification #{self.case_id}"


class StripeCustomerDeletion(models.Model):
    """An erased customer's Stripe customer, to be deleted at Stripe (an outbox row).

    Written in the erasure's transaction and handed to a worker on commit; a beat sweep
    hands over again the rows a broker outage dropped, until Stripe has deleted it.
    """

    customer_id = models.CharField(max_length=255, unique=True)
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, help_text="Why Stripe refused for good, if it did.")

    class Meta:
        indexes = [models.Index(fields=["deleted_at", "requested_at"])]

    def __str__(self) -> str:
        return f"Deletion of {self.customer_id}"
