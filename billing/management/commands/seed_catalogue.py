"""A small demo catalogue: two shared hosting plans, a VPS, a domain, two add-ons sold
with the plans, and tax rates.

Idempotent: products are matched by slug, prices by (product, currency, cycle),
tax rates by country, so a second run changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from billing.models import BillingCycle, PlanCategory, Price, Product, ProductKind, TaxRate

# (slug, name, kind, kind of hosting, description, {cycle: price in EUR cents}, setup fee)
CATALOGUE = (
    (
        "starter",
        "Starter hosting",
        ProductKind.PLAN,
        PlanCategory.SHARED,
        "1 website, 10 GB SSD storage, free TLS certificate, daily backups.",
        {"monthly": 499, "quarterly": 1399, "yearly": 4990},
        0,
    ),
    (
        "business",
        "Business hosting",
        ProductKind.PLAN,
        PlanCategory.SHARED,
        "10 websites, 50 GB SSD storage, staging sites, daily backups kept 30 days.",
        {"monthly": 1299, "quarterly": 3699, "yearly": 12990},
        0,
    ),
    (
        "vps-2",
        "VPS 2 GB",
        ProductKind.PLAN,
        PlanCategory.VPS,
        "2 vCPU, 2 GB RAM, 60 GB NVMe, root access, one IPv4 address.",
        {"monthly": 1999, "quarterly": 5699, "yearly": 19990},
        1000,
    ),
    (
        "domain-com",
        ".com domain",
        ProductKind.DOMAIN,
        "",
        "Registration or transfer of one .com domain, with DNS management.",
        {"yearly": 1299},
        0,
    ),
    (
        "extra-backups",
        "Extra backups",
        ProductKind.ADDON,
        "",
        "Hourly snapshots kept for 14 days, restorable from the client area.",
        {"monthly": 299, "quarterly": 849, "yearly": 2990},
        0,
    ),
    (
        "dedicated-ip",
        "Dedicated IPv4",
        ProductKind.ADDON,
        "",
        "A dedicated IPv4 address for your plan.",
        {"monthly": 350, "quarterly": 999, "yearly": 3500},
        500,
    ),
)

# Add-ons and the plans they are sold with (never alone).
ADDON_PLANS = {
    "extra-backups": ("starter", "business", "vps-2"),
    "dedicated-ip": ("business", "vps-2"),
}

# Prices in other currencies, rounded to .99 from the euro price.
RATES = {"EUR": Decimal("1.00"), "USD": Decimal("1.10"), "GBP": Decimal("0.86")}

TAX_RATES = (
    ("IE", "VAT", "23.00", True),
    ("DE", "VAT", "19.00", True),
    ("FR", "VAT", "20.00", True),
    ("NL", "VAT", "21.00", True),
    ("ES", "VAT", "21.00", True),
    ("IT", "VAT", "22.00", True),
    ("GB", "VAT", "20.00", False),
)


def _convert(amount: int, currency: str) -> int:
    if amount == 0 or currency == "EUR":
        return amount
    value = int(Decimal(amount) * RATES[currency])
    return value - value % 100 + 99 if value % 100 else value


class Command(BaseCommand):
    help = "Creates (or refreshes) the demo catalogue and tax rates. Safe to run again."
    # As seed_demo: `make run` runs it between migrate and runserver, which check.
    requires_system_checks: list[str] = []

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            for order, (slug, name, kind, category, description, prices, setup_fee) in enumerate(
                CATALOGUE
            ):
                product, _ = Product.objects.update_or_create(
                    slug=slug,
                    defaults={
                        "name": name,
                        "kind": kind,
                        "category": category,
                        "description": description,
                        "sort_order": order,
                    },
                )
                for cycle, amount in prices.items():
                    for currency in RATES:
                        Price.objects.update_or_create(
                            product=product,
                            currency=currency,
                            cycle=BillingCycle(cycle),
                            defaults={
                                "amount": _convert(amount, currency),
                                "setup_fee": _convert(setup_fee, currency),
                            },
                        )
            for slug, plans in ADDON_PLANS.items():
                Product.objects.get(slug=slug).addon_for.set(Product.objects.filter(slug__in=plans))
            for country, tax_name, rate, is_eu in TAX_RATES:
                TaxRate.objects.update_or_create(
                    country=country,
                    defaults={"name": tax_name, "rate": Decimal(rate), "is_eu": is_eu},
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalogue ready: {Product.objects.count()} products, "
                f"{Price.objects.count()} prices, {TaxRate.objects.count()} tax rates."
            )
        )
