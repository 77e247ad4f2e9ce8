"""Services: what a customer has (a hosting account on a panel), its status history and
its package changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .catalogue import BillingCycle, Currency, Product
from .orders import Order


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
