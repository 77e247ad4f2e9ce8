"""What we sell: products (plans and add-ons), their prices per currency and cycle, and
the tax rate of each country."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from ..money import format_money


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
