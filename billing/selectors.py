"""Billing reads shared by views, tasks and the bench, each with its joins spelled out."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Prefetch, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import User
from provisioning.modules import MODULES

from .catalogue import catalogue, current_version, tax_rate
from .domains import domain_unicode
from .models import (
    BillingCycle,
    ChangeStatus,
    CreditBalance,
    CreditEntry,
    Invoice,
    Order,
    PaymentMethod,
    PlanCategory,
    Price,
    Product,
    ProductKind,
    Service,
    ServiceStatus,
    TaxRate,
)
from .money import percent_of
from .services.changes import change_options, change_quote
from .services.credit import balances_cache_key
from .services.invoices import tax_decision
from .services.orders import CartLine


@dataclass(frozen=True)
class Offer:
    """A product's price for one cycle, as the pricing page shows it."""

    price: Price
    months: int
    per_month: int
    saving_percent: int
    with_tax: int | None


@dataclass(frozen=True)
class AddonChoice:
    """An add-on offered on its plan's card, priced for the card's cycle."""

    product: Product
    price: Price


@dataclass(frozen=True)
class PricingCard:
    product: Product
    features: list[str]
    offer: Offer
    other_offers: list[Offer]
    # A plan's card: the add-ons that can be ticked with it. An add-on's card: the plans
    # it is sold with, and whether it may go in the cart on its own (one of them is in
    # the cart already or the customer has it).
    addons: list[AddonChoice] = field(default_factory=list)
    sold_with: list[str] = field(default_factory=list)
    addable: bool = True


@dataclass(frozen=True)
class PricingGroup:
    key: str
    title: str
    cards: list[PricingCard]
    addons: list[PricingCard]


@dataclass(frozen=True)
class PricingPage:
    groups: list[PricingGroup]
    cycle: str
    tax: TaxRate | None
    # Everything the groups were made from (the catalogue's version, the currency, the
    # cycle, the country, what is in the cart and owned): plans.html keeps the rendered
    # groups under it (core's {% fragment %}).
    key: str = ""


def _offers(product: Product, tax: TaxRate | None) -> list[Offer]:
    prices: list[Price] = list(getattr(product, "shown_prices", []))
    monthly = next((p.amount for p in prices if p.cycle == BillingCycle.MONTHLY), None)
    offers = []
    for price in prices:
        months = BillingCycle.months(price.cycle)
        saving = 0
        if monthly and months > 1:
            saving = max(0, round(100 * (1 - price.amount / (monthly * months))))
        offers.append(
            Offer(
                price=price,
                months=months,
                per_month=round(price.amount / months),
                saving_percent=saving,
                with_tax=price.amount + percent_of(price.amount, tax.rate) if tax else None,
            )
        )
    return sorted(offers, key=lambda offer: offer.months)


def _group_of(product: Product) -> tuple[str, str]:
    if product.kind == ProductKind.DOMAIN:
        return "domains", "Domains"
    if product.category:
        return product.category, PlanCategory(product.category).label
    return "other", "Other hosting plans"


GROUP_ORDER = [*PlanCategory.values, "other", "domains"]


def pricing_page(
    *, currency: str, cycle: str, country: str, in_cart: set[int], owned: set[int]
) -> PricingPage:
    """The catalogue as a pricing page: hosting plans first, grouped by kind of hosting
    (shared, VPS, dedicated, then plans of no kind), then domains. Each product shows
    its price for `cycle` (or its shortest cycle) and what longer cycles save; a plan's
    card offers its add-ons, and each add-on is listed once, with the first group that
    holds one of its plans, addable alone only when one of them is `in_cart` or `owned`.
    With the visitor's `country` known, prices with its tax too. No query while the
    catalogue this process keeps is current (billing.catalogue), one cache read."""
    version = current_version()
    tax = tax_rate(country, version=version)
    products = catalogue(currency=currency, version=version)
    offers = {product.pk: _offers(product, tax) for product in products}
    addons_of: dict[int, list[Product]] = {}
    for product in products:
        if product.kind == ProductKind.ADDON:
            for plan in product.addon_for.all():
                addons_of.setdefault(plan.pk, []).append(product)

    def chosen(product: Product) -> Offer | None:
        options = offers[product.pk]
        return next((o for o in options if o.price.cycle == cycle), options[0] if options else None)

    groups: dict[str, PricingGroup] = {}
    placed: set[int] = set()
    for product in sorted(products, key=lambda p: GROUP_ORDER.index(_group_of(p)[0])):
        offer = chosen(product)
        if product.kind == ProductKind.ADDON or offer is None:
            continue
        key, title = _group_of(product)
        group = groups.setdefault(key, PricingGroup(key=key, title=title, cards=[], addons=[]))
        choices = []
        for addon in addons_of.get(product.pk, []):
            price = next(
                (p for p in getattr(addon, "shown_prices", []) if p.cycle == offer.price.cycle),
                None,
            )
            if price is not None:
                choices.append(AddonChoice(product=addon, price=price))
        group.cards.append(
            PricingCard(
                product=product,
                features=product.features,
                offer=offer,
                other_offers=[o for o in offers[product.pk] if o is not offer],
                addons=choices,
            )
        )
        for addon in addons_of.get(product.pk, []):
            addon_offer = chosen(addon)
            if addon.pk in placed or addon_offer is None:
                continue
            placed.add(addon.pk)
            plans = [plan for plan in addon.addon_for.all() if plan.is_active]
            group.addons.append(
                PricingCard(
                    product=addon,
                    features=addon.features,
                    offer=addon_offer,
                    other_offers=[o for o in offers[addon.pk] if o is not addon_offer],
                    sold_with=[plan.name for plan in plans],
                    addable=any(plan.pk in in_cart or plan.pk in owned for plan in plans),
                )
            )
    return PricingPage(
        groups=[groups[key] for key in GROUP_ORDER if key in groups],
        cycle=cycle,
        tax=tax,
        key=f"{version}|{currency}|{cycle}|{tax.country if tax else ''}"
        f"|{sorted(in_cart)}|{sorted(owned)}",
    )


def processing_restricted(user: User) -> bool:
    """Whether the customer asked us to restrict processing of their data (GDPR art. 18)."""
    return user.processing_restricted_at is not None


def services_held(*, user: User | AnonymousUser) -> list[tuple[int, str]]:
    """(product id, product kind) of what the customer has, neither cancelled nor
    terminated, once per product: one query, none for a visitor."""
    if not isinstance(user, User):
        return []
    return list(
        Service.objects.filter(user=user)
        .exclude(status__in=[ServiceStatus.CANCELLED, ServiceStatus.TERMINATED])
        .values_list("product_id", "product__kind")
        .order_by()
        .distinct()
    )


def recommended_products(
    *, user: User | AnonymousUser, currency: str, limit: int = 3
) -> list[Product]:
    """Suggestions from what the customer already has (`recommended_for`): one query,
    none for a visitor; the catalogue from billing.catalogue."""
    held = services_held(user=user)
    return recommended_for(user=user, owned=held, currency=currency, limit=limit)


def recommended_for(
    *, user: User | AnonymousUser, owned: list[tuple[int, str]], currency: str, limit: int = 3
) -> list[Product]:
    """What `recommended_products` suggests, given the (product id, kind) of each service
    the customer has that is neither cancelled nor terminated. Someone with a hosting
    plan is offered a domain and add-ons they do not have; someone with only a domain is
    offered a plan."""
    if not owned or not isinstance(user, User) or processing_restricted(user):
        return []
    owned_products = {product_id for product_id, _ in owned}
    wanted = (
        {ProductKind.DOMAIN, ProductKind.ADDON}
        if any(kind == ProductKind.PLAN for _, kind in owned)
        else {ProductKind.PLAN}
    )
    return [
        product
        for product in catalogue(currency=currency)
        if product.kind in wanted and product.pk not in owned_products
    ][:limit]


@dataclass(frozen=True)
class PricedCartLine:
    index: int
    product: Product
    price: Price
    domain: str = ""  # shown in Unicode


def priced_cart(*, lines: list[CartLine], currency: str) -> tuple[list[PricedCartLine], int]:
    """Cart lines with their price in `currency` (lines without one are left out) and the
    total due today (first cycle plus setup fees, before tax)."""
    prices = {
        (price.product_id, price.cycle): price
        for price in Price.objects.select_related("product").filter(
            currency=currency,
            product_id__in=[line.product_id for line in lines],
            product__is_active=True,
        )
    }
    priced = [
        PricedCartLine(
            index=i,
            product=prices[key].product,
            price=prices[key],
            domain=domain_unicode(line.domain),
        )
        for i, line in enumerate(lines)
        if (key := (line.product_id, line.cycle)) in prices
    ]
    total = sum(line.price.amount + line.price.setup_fee for line in priced)
    return priced, total


@dataclass(frozen=True)
class CartTax:
    """The tax an order of the cart would carry, by the rule invoices follow."""

    name: str
    rate: Decimal
    country: str
    reverse_charge: bool
    amount: int
    total: int


def cart_tax(*, subtotal: int, country: str, vat_number: str = "") -> CartTax | None:
    """What the cart's `subtotal` is with tax for a buyer in `country` (and their VAT
    number), decided by invoices.tax_decision, the rule the order's invoice follows;
    None when the country is unknown or has no rate. One query when it is known."""
    rate = TaxRate.objects.filter(country=country).first() if country else None
    if rate is None:
        return None
    decision = tax_decision(rate=rate, country=country, vat_number=vat_number)
    amount = percent_of(subtotal, decision.rate)
    return CartTax(
        name=decision.name,
        rate=decision.rate,
        country=rate.country.name,
        reverse_charge=decision.reverse_charge,
        amount=amount,
        total=subtotal + amount,
    )


def customer_services(*, user: User) -> QuerySet[Service]:
    return Service.objects.filter(user=user).select_related("product").order_by("-created_at")


def customer_invoices(*, user: User) -> QuerySet[Invoice]:
    return Invoice.objects.filter(user=user).order_by("-year", "-sequence")


def customer_orders(*, user: User) -> QuerySet[Order]:
    """The customer's orders, newest first, each with its services (and their products)
    and its invoices: a page of them is three queries however many rows it holds."""
    return (
        Order.objects.filter(user=user)
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.select_related("product").order_by("pk")),
            Prefetch("invoices", queryset=Invoice.objects.order_by("year", "sequence")),
        )
        .order_by("-created_at", "-pk")
    )


def customer_cards(*, user: User) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(user=user).order_by("-is_default", "-created_at")


def service_page(*, service: Service) -> dict[str, Any]:
    """What the service page shows: the service, its account on the panel (if any),
    usage the panel last reported, plan changes with their prorated price, the recent
    history and an upgrade waiting for payment."""
    account = service.account
    quotes = []
    today = timezone.localdate()
    if service.status == ServiceStatus.ACTIVE and service.cancel_at is None:
        for product in change_options(service=service):
            quotes.append(change_quote(service=service, product=product, today=today))
    return {
        "service": service,
        "account": account,
        "password_waiting": bool(account and account.password_once_encrypted),
        "sso_available": bool(
            account
            and service.status == ServiceStatus.ACTIVE
            and MODULES[account.server.group.module].has_sso
        ),
        "quotes": quotes,
        "open_change": service.changes.filter(status=ChangeStatus.AWAITING_PAYMENT)
        .select_related("to_product", "invoice")
        .first(),
        "transitions": list(service.transitions.all()[:10]),
    }


@dataclass(frozen=True)
class PlanCount:
    month: str  # "YYYY-MM"
    country: str
    plan: str
    customers: int


def plan_customers_by_month() -> list[PlanCount]:
    """How many distinct customers started each plan each month, by their country: the
    raw counts privacy/reports.py suppresses before anyone sees them. No identifiers."""
    rows = (
        Service.objects.filter(product__kind=ProductKind.PLAN)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "user__country", "product__name")
        .annotate(customers=Count("user", distinct=True))
        .order_by("month", "user__country", "product__name")
    )
    return [
        PlanCount(
            month=row["month"].strftime("%Y-%m"),
            country=str(row["user__country"] or ""),
            plan=row["product__name"],
            customers=row["customers"],
        )
        for row in rows
    ]


def customer_credit_balances(*, user: User) -> list[CreditBalance]:
    """The customer's credit balances above zero, one per currency. Cached (the
    invoices page is read far more often than credit changes; services.credit clears
    the entry when a balance moves), so the page costs no query for it."""
    key = balances_cache_key(user.pk)
    cached: list[tuple[str, int]] | None = cache.get(key)
    if cached is None:
        cached = list(
            CreditBalance.objects.filter(user=user, amount__gt=0)
            .order_by("currency")
            .values_list("currency", "amount")
        )
        cache.set(key, cached, timeout=3600)
    return [CreditBalance(currency=currency, amount=amount) for currency, amount in cached]


def customer_credit_entries(*, user: User) -> QuerySet[CreditEntry]:
    return CreditEntry.objects.filter(user=user).order_by("-created_at", "-pk")
