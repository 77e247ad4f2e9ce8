"""Invoices and their lines, the counters that number invoices and credit notes without
gaps, and credit notes (what a refund gives back of an invoice)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from .catalogue import Currency
from .orders import Order
from .services import Service


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
    # Indexed only where set (Meta.indexes): renewals and service changes have no order,
    # and a NULL entry per such invoice would cost each of their inserts a WAL record.
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        db_index=False,
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
            # order.invoices and the PROTECT check ask `order_id = x`, which implies
            # the condition, so PostgreSQL uses this index for both.
            models.Index(
                fields=["order"],
                condition=Q(order__isnull=False),
                name="billing_invoice_order_set",
            ),
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
    # Indexed by the (service, period_start) constraint below, which starts with it.
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoice_lines",
        db_index=False,
    )
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            # A service is billed once per period: what makes renewal runs idempotent.
            # Not partial: NULLs are distinct, so lines without a service or a period
            # never conflict, as before; whole, it also serves every lookup by service
            # (lines__service_id, SET_NULL, the foreign key check when a service goes),
            # so the service column needs no index of its own.
            models.UniqueConstraint(
                fields=["service", "period_start"], name="billing_line_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(amount=models.F("unit_amount") * models.F("quantity")),
                name="billing_line_amount_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.description


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
