"""Billing: what we sell, what customers ordered, what they owe and how they pay.

Money is always an integer count of minor units (cents, pence) next to an ISO
4217 currency code; no floats anywhere.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from .money import format_money


class Currency(models.TextChoices):
    EUR = "EUR", "Euro (€)"
    USD = "USD", "US dollar ($)"
    GBP = "GBP", "Pound sterling (£)"


class BillingCycle(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"

    @classmethod
    def months(cls, cycle: str) -> int:
        return {cls.MONTHLY: 1, cls.QUARTERLY: 3, cls.YEARLY: 12}[cls(cycle)]

    @classmethod
    def advance(cls, start: dt.date, cycle: str) -> dt.date:
        """The date one cycle after `start` (31 Jan + 1 month = 28/29 Feb)."""
        return start + relativedelta(months=cls.months(cycle))


class ProductKind(models.TextChoices):
    PLAN = "plan", "Hosting plan"
    DOMAIN = "domain", "Domain"
    ADDON = "addon", "Add-on"


class PlanCategory(models.TextChoices):
    """The heading a hosting plan is listed under on the pricing page (in this order)."""

    SHARED = "shared", "Shared hosting"
    VPS = "vps", "VPS"
    DEDICATED = "dedicated", "Dedicated servers"


class Product(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=ProductKind.choices, default=ProductKind.PLAN)
    category = models.CharField(
        max_length=12,
        choices=PlanCategory.choices,
        blank=True,
        help_text="Hosting plans: the kind of hosting they are listed under on the pricing page.",
    )
    addon_for = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="addons",
        limit_choices_to={"kind": ProductKind.PLAN},
        verbose_name="sold with",
        help_text="Add-ons: the hosting plans they are sold with. An add-on is never sold "
        "alone: its plan is in the same order, or the customer already has it.",
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="Inactive products leave the shop.")
    sort_order = models.PositiveIntegerField(default=0)
    group = models.CharField(
        max_length=60,
        blank=True,
        help_text="Products of one group (e.g. shared-hosting) can be upgraded into each other.",
    )
    server_group = models.ForeignKey(
        "provisioning.ServerGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        help_text="Where its accounts are created; empty: nothing to create on a panel.",
    )
    package = models.CharField(
        max_length=100, blank=True, help_text="The panel's package (WHM plan) name."
    )
    module_options = models.JSONField(
        default=dict,
        blank=True,
        help_text='Module options, e.g. {"template": 9000, "cores": 2, "memory": 2048, '
        '"disk": 40} for Proxmox.',
    )
    requires_domain = models.BooleanField(
        default=False,
        help_text="The customer names the account's domain in the cart (web hosting); "
        "otherwise the account gets <username>.PROVISIONING_DEFAULT_DOMAIN.",
    )

    class Meta:
        ordering = ["kind", "sort_order", "name"]
        indexes = [models.Index(fields=["is_active", "kind", "sort_order"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.category and self.kind != ProductKind.PLAN:
            raise ValidationError({"category": "Only hosting plans have a kind of hosting."})

    @property
    def features(self) -> list[str]:
        """The description as a list: one feature a line (or, in one line, per comma)."""
        text = self.description.strip().rstrip(".")
        parts = text.splitlines() if "\n" in text else text.split(", ")
        return [part.strip().rstrip(".") for part in parts if part.strip()]


class Price(models.Model):
    """What one billing cycle of a product costs in one currency."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3, choices=Currency.choices)
    cycle = models.CharField(max_length=10, choices=BillingCycle.choices)
    amount = models.PositiveIntegerField(help_text="Per cycle, in minor units (cents).")
    setup_fee = models.PositiveIntegerField(default=0, help_text="Once, in minor units.")

    class Meta:
        ordering = ["product", "currency", "amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "currency", "cycle"], name="billing_price_one_per_cycle"
            ),
        ]

    def __str__(self) -> str:
        amount = format_money(self.amount, self.currency)
        return f"{self.product} {self.get_cycle_display()} {amount}"


class TaxRate(models.Model):
    """The VAT or sales tax charged to customers in one country."""

    country = CountryField(unique=True)
    name = models.CharField(max_length=40, default="VAT")
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 20.00.")
    is_eu = models.BooleanField(
        "EU member state",
        default=False,
        help_text="Businesses with a VAT number in another EU state pay no VAT (reverse charge).",
    )

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="billing_taxrate_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate}% ({self.country})"


class BillingAccount(models.Model):
    """A customer's billing facts: their Stripe customer and VAT number."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_account"
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    vat_number = models.CharField(
        "VAT number", max_length=20, blank=True, help_text="EU businesses: e.g. DE123456789."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="billing_account_stripe_customer_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Billing account of {self.user}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Awaiting payment"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class Order(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(
        max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The cart it came from: a second submit of the same cart finds this order.
    checkout_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "checkout_token"],
                condition=~Q(checkout_token=""),
                name="billing_order_once_per_cart",
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk}"


class ServiceStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    PROVISIONING = "provisioning", "Being set up"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"
    TERMINATED = "terminated", "Terminated"
    FAILED = "failed", "Set-up failed"


class CancelWhen(models.TextChoices):
    END_OF_PERIOD = "end_of_period", "At the end of the paid period"
    IMMEDIATELY = "immediately", "Immediately, without refund"


class Service(models.Model):
    """One thing a customer has: a plan, a domain or an add-on, billed every cycle."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="services"
    )
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="services")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="services")
    cycle = models.CharField(max_length=10, choices=BillingCycle.choices)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    amount = models.PositiveIntegerField(help_text="Recurring price per cycle, minor units.")
    # Changed only through billing.services.lifecycle.service_transition.
    status = models.CharField(
        max_length=12, choices=ServiceStatus.choices, default=ServiceStatus.PENDING
    )
    next_due_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    account = models.OneToOneField(
        "provisioning.Account",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service",
    )
    # A cancellation waiting to run (staff can undo it until then).
    cancel_at = models.DateField(null=True, blank=True)
    cancel_when = models.CharField(max_length=15, choices=CancelWhen.choices, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # The customer's domain (IDNA A-label, lower case) for products that ask for one;
    # one live service per domain (the constraint below).
    domain = models.CharField(max_length=253, blank=True)
    # The panel does not match the status: a suspend, unsuspend, package change or
    # removal gave up. Set once per failure (staff are told then), cleared by the
    # next sync that works.
    panel_error = models.TextField(blank=True)
    panel_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "next_due_date"]),
            models.Index(
                fields=["cancel_at"],
                condition=Q(cancel_at__isnull=False),
                name="billing_service_cancel_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["domain"],
                condition=~Q(domain="") & ~Q(status__in=["cancelled", "terminated"]),
                name="billing_service_domain_live_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.get_cycle_display()})"


class ServiceTransition(models.Model):
    """One change of a service's status: from, to, who or which job, when and why."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=ServiceStatus.choices)
    to_status = models.CharField(max_length=12, choices=ServiceStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The customer or staff member; empty when a job did it.",
    )
    job = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["service", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.from_status} → {self.to_status}"


class ChangeStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
    APPLIED = "applied", "Applied"
    CANCELLED = "cancelled", "Cancelled"


class ServiceChange(models.Model):
    """An upgrade or downgrade to another product of the same group (docs/billing.md)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="changes")
    from_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    to_product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    from_amount = models.PositiveIntegerField()
    to_amount = models.PositiveIntegerField()
    charge = models.PositiveIntegerField(default=0, help_text="Prorated, invoiced.")
    credit = models.PositiveIntegerField(
        default=0, help_text="Prorated, added to the customer's credit balance."
    )
    invoice = models.ForeignKey(
        "Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="service_changes"
    )
    status = models.CharField(max_length=20, choices=ChangeStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["service"],
                condition=Q(status="awaiting_payment"),
                name="billing_one_open_change_per_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_product} → {self.to_product}"


class DocumentCounter(models.Model):
    """The last number used in one series and year; locked while a number is taken."""

    series = models.CharField(max_length=3)  # "INV" or "CN"
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="billing_counter_series_year"),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last_number}"


class InvoiceStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


PAYABLE_STATUSES = (InvoiceStatus.UNPAID, InvoiceStatus.OVERDUE)


class Invoice(models.Model):
    """A numbered bill. The customer's name and address are copied in when it is issued,
    because an invoice must keep saying what it said when it was sent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        # The (user, -year, -sequence) index below starts with user_id and serves every
        # lookup by customer: a second index would only cost each insert a WAL record.
        db_index=False,
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    # Unique through Meta.constraints: unique=True on a CharField also makes PostgreSQL
    # keep a varchar_pattern_ops copy for LIKE 'x%', which no query of ours runs.
    number = models.CharField(max_length=20)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.UNPAID
    )
    issued_on = models.DateField()
    due_date = models.DateField()
    subtotal = models.PositiveIntegerField()
    tax_amount = models.PositiveIntegerField(default=0)
    # Taken from the customer's credit balance when the invoice was issued (a ledger
    # entry says so); `total` is what is left to pay: subtotal + tax − credit_applied.
    # A database default, so the renewals' INSERT ... SELECT need not name it.
    credit_applied = models.PositiveIntegerField(default=0, db_default=0)
    total = models.PositiveIntegerField()
    tax_name = models.CharField(max_length=40, blank=True)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    reverse_charge = models.BooleanField(default=False)
    billing_name = models.CharField(max_length=150)
    billing_business = models.CharField(max_length=150, blank=True)
    billing_address = models.TextField(blank=True)
    billing_country = CountryField(blank=True)
    billing_email = models.EmailField(blank=True)
    vat_number = models.CharField(max_length=20, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="billing_invoice_gap_free"),
            models.UniqueConstraint(fields=["number"], name="billing_invoice_number_unique"),
            models.CheckConstraint(
                condition=Q(
                    total=models.F("subtotal") + models.F("tax_amount") - models.F("credit_applied")
                ),
                name="billing_invoice_total_adds_up",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-year", "-sequence"]),
            models.Index(fields=["status", "due_date"]),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"

    @property
    def is_payable(self) -> bool:
        return self.status in PAYABLE_STATUSES and self.total > 0


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.PositiveIntegerField()
    amount = models.PositiveIntegerField()
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="invoice_lines"
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            # A service is billed once per period: what makes renewal runs idempotent.
            models.UniqueConstraint(
                fields=["service", "period_start"],
                condition=Q(service__isnull=False, period_start__isnull=False),
                name="billing_line_once_per_period",
            ),
            models.CheckConstraint(
                condition=Q(amount=models.F("unit_amount") * models.F("quantity")),
                name="billing_line_amount_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.description


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


class CreditNote(models.Model):
    """Money given back on an invoice; numbered gap-free like invoices, series CN."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=20, unique=True)
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, choices=Currency.choices)
    reason = models.CharField(max_length=255, blank=True)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    issued_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "sequence"], name="billing_creditnote_gap_free"
            ),
            models.UniqueConstraint(
                fields=["stripe_refund_id"],
                condition=~Q(stripe_refund_id=""),
                name="billing_creditnote_refund_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_creditnote_positive"),
        ]

    def __str__(self) -> str:
        return f"Credit note {self.number}"


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


class CreditKind(models.TextChoices):
    DOWNGRADE = "downgrade", "Downgrade credit"
    APPLIED = "applied", "Applied to an invoice"
    STAFF = "staff", "Adjusted by staff"


class CreditBalance(models.Model):
    """What a customer has in credit, per currency: the sum of their ledger entries,
    kept here so a lock on this row serialises every change (never below zero)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_balances"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    amount = models.PositiveIntegerField(default=0, help_text="Minor units.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "currency"], name="billing_one_credit_balance_per_currency"
            ),
        ]

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


class CreditEntry(models.Model):
    """One change of a credit balance: a downgrade's prorated credit, credit applied to
    an invoice, or staff adding or removing some (with who and why)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_entries"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    amount = models.IntegerField(help_text="Minor units: positive adds, negative takes.")
    balance_after = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=CreditKind.choices)
    note = models.CharField(max_length=255, blank=True)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="credit_entries"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member; empty when billing did it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "credit entries"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "currency", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_credit_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{format_money(self.amount, self.currency)} ({self.get_kind_display()})"
