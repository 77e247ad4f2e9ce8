"""A customer's billing identity (address, VAT number, Stripe customer) and the orders
they check out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .catalogue import Currency


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
