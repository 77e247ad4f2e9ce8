"""Checking out: a cart becomes an order, its pending services and one invoice."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing.domains import domain_check, domain_unicode
from billing.models import (
    InvoiceLine,
    InvoiceStatus,
    Order,
    Price,
    Product,
    ProductKind,
    Service,
    ServiceStatus,
)
from billing.notices import tell_customer
from core.exceptions import ApplicationError

from .credit import credit_apply
from .invoices import invoice_context, invoice_issue, invoice_mark_paid, period_line


@dataclass(frozen=True)
class CartLine:
    product_id: int
    cycle: str
    domain: str = ""  # the A-label, for products that ask for one (billing.domains)


def plans_owned(*, user: User | AnonymousUser) -> set[int]:
    """The hosting plans the customer has (not cancelled or terminated): their add-ons
    may be bought without the plan in the cart. One query; none for a visitor."""
    if not isinstance(user, User):
        return set()
    return set(
        Service.objects.filter(user=user, product__kind=ProductKind.PLAN)
        .exclude(status__in=[ServiceStatus.CANCELLED, ServiceStatus.TERMINATED])
        .values_list("product_id", flat=True)
    )


@dataclass(frozen=True)
class AddonWithoutPlan:
    """An add-on in a cart that holds none of the plans it is sold with."""

    name: str
    plans: str  # "Starter hosting or Business hosting"

    @property
    def message(self) -> str:
        return f"{self.name} is sold only with {self.plans}: add the plan to your cart first."


def addons_without_plan(*, lines: list[CartLine], owned: set[int]) -> dict[int, AddonWithoutPlan]:
    """The add-ons in `lines` (by product id) whose plan is neither in `lines` nor among
    the customer's plans (`owned`): an add-on is never sold alone. Two queries (none for
    an empty cart)."""
    in_cart = {line.product_id for line in lines}
    if not in_cart:
        return {}
    addons = Product.objects.filter(pk__in=in_cart, kind=ProductKind.ADDON).prefetch_related(
        "addon_for"
    )
    problems = {}
    for addon in addons:
        plans = list(addon.addon_for.all())
        if not any(plan.pk in in_cart or plan.pk in owned for plan in plans):
            names = " or ".join(plan.name for plan in plans) or "a hosting plan"
            problems[addon.pk] = AddonWithoutPlan(name=addon.name, plans=names)
    return problems


@transaction.atomic
def order_place(
    *, user: User, lines: list[CartLine], currency: str, checkout_token: str = ""
) -> Order:
    """Turns a cart into an order, its pending services and one unpaid invoice due today.

    One transaction: either everything exists afterwards, with the next invoice
    number, or nothing does and no number was used. With a checkout token, the same
    cart submitted twice (a double click, two tabs) gives the first order back: the
    unique (user, token) row makes the second transaction wait for the first.
    """
    if checkout_token:
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    user=user, currency=currency, checkout_token=checkout_token
                )
        except IntegrityError:
            return Order.objects.get(user=user, checkout_token=checkout_token)
        return _order_fill(order=order, user=user, lines=lines, currency=currency)
    return _order_fill(order=None, user=user, lines=lines, currency=currency)


def _domains_of(lines: list[CartLine], prices: dict[tuple[int, str], Price]) -> list[str]:
    """Each line's domain, checked again at checkout (the cart may be old): products that
    ask for one have a valid domain no live service has, and no domain is in the cart
    twice. Other products' lines carry none."""
    domains: list[str] = []
    for line in lines:
        product = prices[(line.product_id, line.cycle)].product
        if not product.requires_domain:
            domains.append("")
            continue
        try:
            domain = domain_check(line.domain)
        except ValidationError as exc:
            raise ApplicationError(f"{product.name}: {' '.join(exc.messages)}") from None
        if domain in domains:
            raise ApplicationError(f"{domain_unicode(domain)} is in your cart twice.")
        domains.append(domain)
    return domains


def _order_fill(*, order: Order | None, user: User, lines: list[CartLine], currency: str) -> Order:
    if not lines:
        raise ApplicationError("Your cart is empty.")
    problems = addons_without_plan(lines=lines, owned=plans_owned(user=user))
    if problems:
        raise ApplicationError(" ".join(problem.message for problem in problems.values()))
    prices = {
        (price.product_id, price.cycle): price
        for price in Price.objects.select_related("product").filter(
            currency=currency,
            product_id__in=[line.product_id for line in lines],
            product__is_active=True,
        )
    }
    missing = [line for line in lines if (line.product_id, line.cycle) not in prices]
    if missing:
        raise ApplicationError(
            "Some items in your cart are no longer sold in this currency. "
            "Remove them or pick another currency."
        )
    domains = _domains_of(lines, prices)
    today = timezone.localdate()
    if order is None:
        order = Order.objects.create(user=user, currency=currency)
    invoice_lines: list[InvoiceLine] = []
    for line, domain in zip(lines, domains, strict=True):
        price = prices[(line.product_id, line.cycle)]
        try:
            with transaction.atomic():
                service = Service.objects.create(
                    user=user,
                    order=order,
                    product=price.product,
                    cycle=price.cycle,
                    currency=currency,
                    amount=price.amount,
                    domain=domain,
                )
        except IntegrityError:  # another order took the domain meanwhile
            raise ApplicationError(
                f"{domain_unicode(domain)} is already hosted here. Remove it from your cart."
            ) from None
        invoice_lines.append(
            period_line(
                product=price.product,
                cycle=price.cycle,
                amount=price.amount,
                start=today,
                service=service,
            )
        )
        if price.setup_fee:
            invoice_lines.append(
                InvoiceLine(
                    description=f"{price.product.name}: setup fee",
                    unit_amount=price.setup_fee,
                    amount=price.setup_fee,
                )
            )
    invoice = invoice_issue(user=user, order=order, currency=currency, lines=invoice_lines)
    if invoice.total == 0:
        # Nothing to pay (a free plan): the services start now.
        invoice_mark_paid(invoice=invoice)
        return order
    # The customer's credit goes first; when it covers everything the invoice is paid
    # (they are told so) and the services start.
    credit_apply(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    if invoice.status == InvoiceStatus.UNPAID:
        tell_customer(user=user, kind="billing-invoice-issued", context=invoice_context(invoice))
    return order
