"""What we sell, read once per change instead of once per page.

The catalogue (active products with their prices, the plans each add-on is sold with,
the tax rates) is the same for every visitor and changes only when staff edit it, yet
the pricing page and the dashboard read it on every view: three queries, about 3 M
instructions a page. Each worker process keeps what it read in memory under a version
kept in the shared cache; any save or delete of a Product, a Price, a TaxRate or an
add-on's plans (the admin, seed_catalogue, a shell) writes a new version, so every
worker reads the catalogue again on its next page: a staff edit shows at once.

The version is written when the change is made and again when its transaction commits:
the first so that the transaction's own reads see it, the second so that a page that
read the old rows while the change was still uncommitted cannot keep them under the
new version. With the cache unreachable every read is a miss (core.cache fails soft),
so each page reads the catalogue from the database, as it did before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import Price, Product, TaxRate

VERSION_KEY = "billing:catalogue:version"


@dataclass(frozen=True)
class Snapshot:
    version: str
    products: tuple[Product, ...]


_products: dict[str, Snapshot] = {}  # currency -> what this process read
_tax_rates: tuple[str, dict[str, TaxRate]] | None = None


def current_version() -> str:
    """The catalogue's version: one cache read; a new one when the cache has none (a
    cleared or restarted Redis), so nothing a process kept from before is trusted."""
    version = cache.get(VERSION_KEY)
    if isinstance(version, str):
        return version
    fresh = uuid.uuid4().hex
    cache.add(VERSION_KEY, fresh, timeout=None)
    stored = cache.get(VERSION_KEY)
    return stored if isinstance(stored, str) else fresh


def catalogue_changed() -> None:
    """Every worker reads the catalogue again on its next page (see the module's note)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _on_change(**_: Any) -> None:
    catalogue_changed()
    transaction.on_commit(catalogue_changed)


def connect_signals() -> None:
    """Called from BillingConfig.ready: every write path (the admin with its price inline
    and its add-on picker, seed_catalogue, a shell) goes through these models' save and
    delete, so the version cannot be forgotten by one of them."""
    for model in (Product, Price, TaxRate):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"catalogue-save-{model}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"catalogue-delete-{model}")
    m2m_changed.connect(
        _on_change, sender=Product.addon_for.through, dispatch_uid="catalogue-addon-for"
    )


def _read_products(currency: str) -> tuple[Product, ...]:
    products = (
        Product.objects.filter(is_active=True, prices__currency=currency)
        .distinct()
        .prefetch_related(
            Prefetch(
                "prices",
                queryset=Price.objects.filter(currency=currency).order_by("amount"),
                to_attr="shown_prices",
            ),
            "addon_for",
        )
    )
    return tuple(products)


def catalogue(*, currency: str, version: str | None = None) -> list[Product]:
    """Active products that have a price in `currency`, each with `.shown_prices`
    (cheapest first) and its `addon_for` plans prefetched. The products are shared by
    the pages this process serves: read them, never change them."""
    version = version or current_version()
    kept = _products.get(currency)
    if kept is None or kept.version != version:
        kept = Snapshot(version=version, products=_read_products(currency))
        if any(other.version != version for other in _products.values()):
            _products.clear()
        _products[currency] = kept
    return list(kept.products)


def tax_rate(country: str, *, version: str | None = None) -> TaxRate | None:
    """The tax rate of `country`, or None; from the same kept catalogue."""
    global _tax_rates
    if not country:
        return None
    version = version or current_version()
    if _tax_rates is None or _tax_rates[0] != version:
        _tax_rates = (version, {str(rate.country): rate for rate in TaxRate.objects.all()})
    return _tax_rates[1].get(country)
