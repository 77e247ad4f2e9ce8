"""Customer credit: a balance per currency and its ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ..money import format_money
from .catalogue import Currency
from .invoices import Invoice
from .services import Service


class CreditKind(models.TextChoices):
    DOWNGRADE = "downgrade", "Downgrade credit"
    APPLIED = "applied", "Applied to an invoice"
    STAFF = "staff", "Adjusted by staff"
    RETURNED = "returned", "Returned from a refunded invoice"


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
