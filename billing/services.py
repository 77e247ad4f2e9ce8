"""Billing writes. Each function says which transaction it runs in and whether a repeat
is safe; Stripe calls are made outside database transactions so no lock is held
over the network."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError

from . import gateway
from .models import (
    PAYABLE_STATUSES,
    BillingAccount,
    BillingCycle,
    CreditNote,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Price,
    Service,
    ServiceStatus,
    TaxRate,
)
from .money import format_money, percent_of
from .notices import tell_customer, tell_staff

logger = logging.getLogger(__name__)


# --- numbers and tax -------------------------------------------------------


def _take_numbers(*, series: str, year: int, count: int) -> int:
    """Reserves `count` consecutive numbers in `series`/`year` and returns the first.

    Must run inside the transaction that uses them: the counter row stays locked
    until it commits, and a rollback gives the numbers back, so there are no gaps.
    """
    DocumentCounter.objects.get_or_create(series=series, year=year)
    counter = DocumentCounter.objects.select_for_update().get(series=series, year=year)
    first = counter.last_number + 1
    counter.last_number = F("last_number") + count
    counter.save(update_fields=["last_number"])
    return first


def _invoice_number(year: int, sequence: int) -> str:
    return f"{settings.BILLING_INVOICE_PREFIX}{year}-{sequence:06d}"


def _credit_note_number(year: int, sequence: int) -> str:
    return f"{settings.BILLING_CREDIT_NOTE_PREFIX}{year}-{sequence:06d}"


@dataclass(frozen=True)
class TaxDecision:
    name: str
    rate: Decimal
    reverse_charge: bool


NO_TAX = TaxDecision(name="", rate=Decimal("0.00"), reverse_charge=False)


def tax_decision(*, rate: TaxRate | None, country: str, vat_number: str) -> TaxDecision:
    """The tax on a sale to a customer in `country`.

    EU businesses with a VAT number in another member state than ours pay no VAT:
    the customer accounts for it (reverse charge, Council Directive 2006/112/EC art. 196).
    """
    if rate is None:
        return NO_TAX
    seller = settings.BILLING_SELLER_COUNTRY
    if rate.is_eu and _vat_number_of(country, vat_number) and country != seller:
        return TaxDecision(name=rate.name, rate=Decimal("0.00"), reverse_charge=True)
    return TaxDecision(name=rate.name, rate=rate.rate, reverse_charge=False)


def _vat_number_of(country: str, vat_number: str) -> bool:
    """Whether `vat_number` is a VAT number issued in `country`: its prefix is the
    country's code (Greece uses EL). A number from another state is not the
    customer's own and gives no reverse charge."""
    prefix = "EL" if country == "GR" else country
    return bool(vat_number) and bool(prefix) and vat_number.upper().startswith(prefix)


def _customer_snapshot(user: Any, vat_number: str) -> dict[str, Any]:
    return {
        "billing_name": user.full_name or user.email,
        "billing_business": user.business_name,
        "billing_address": "\n".join(user.mailing_address_lines),
        "billing_country": user.country,
        "billing_email": user.email,
        "vat_number": vat_number,
    }


def billing_account_for(*, user: Any) -> BillingAccount:
    account, _ = BillingAccount.objects.get_or_create(user=user)
    return account


@transaction.atomic
def billing_account_update(*, user: Any, vat_number: str) -> BillingAccount:
    account = billing_account_for(user=user)
    account.vat_number = vat_number.replace(" ", "").upper()
    account.save(update_fields=["vat_number"])
    return account


def _invoice_url(invoice_id: int) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("billing:invoice_detail", args=[invoice_id])


def _invoice_context(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_number": invoice.number,
        "invoice_total": format_money(invoice.total, invoice.currency),
        "due_date": invoice.due_date.isoformat(),
        "invoice_url": _invoice_url(invoice.pk),
    }


# --- orders ----------------------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    product_id: int
    cycle: str


@transaction.atomic
def order_place(
    *, user: Any, lines: list[CartLine], currency: str, checkout_token: str = ""
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


def _order_fill(*, order: Order | None, user: Any, lines: list[CartLine], currency: str) -> Order:
    if not lines:
        raise ApplicationError("Your cart is empty.")
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
    today = timezone.localdate()
    if order is None:
        order = Order.objects.create(user=user, currency=currency)
    invoice_lines: list[InvoiceLine] = []
    for line in lines:
        price = prices[(line.product_id, line.cycle)]
        service = Service.objects.create(
            user=user,
            order=order,
            product=price.product,
            cycle=price.cycle,
            currency=currency,
            amount=price.amount,
        )
        period_end = BillingCycle.advance(today, price.cycle)
        invoice_lines.append(
            InvoiceLine(
                description=f"{price.product.name} ({price.get_cycle_display().lower()}), "
                f"{today:%d %b %Y} to {period_end:%d %b %Y}",
                unit_amount=price.amount,
                amount=price.amount,
                service=service,
                period_start=today,
                period_end=period_end,
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
    invoice = _invoice_issue(user=user, order=order, currency=currency, lines=invoice_lines)
    if invoice.total == 0:
        # Nothing to pay (a free plan): the services start now.
        invoice_mark_paid(invoice=invoice)
    else:
        tell_customer(user=user, kind="billing-invoice-issued", context=_invoice_context(invoice))
    return order


def _invoice_issue(
    *,
    user: Any,
    order: Order | None,
    currency: str,
    lines: list[InvoiceLine],
    due_date: dt.date | None = None,
) -> Invoice:
    account = billing_account_for(user=user)
    rate = TaxRate.objects.filter(country=user.country).first() if user.country else None
    tax = tax_decision(rate=rate, country=str(user.country), vat_number=account.vat_number)
    subtotal = sum(line.amount for line in lines)
    tax_amount = percent_of(subtotal, tax.rate)
    today = timezone.localdate()
    sequence = _take_numbers(series="INV", year=today.year, count=1)
    invoice = Invoice.objects.create(
        user=user,
        order=order,
        year=today.year,
        sequence=sequence,
        number=_invoice_number(today.year, sequence),
        currency=currency,
        issued_on=today,
        due_date=due_date or today,
        subtotal=subtotal,
        tax_amount=tax_amount,
        total=subtotal + tax_amount,
        tax_name=tax.name,
        tax_rate=tax.rate,
        reverse_charge=tax.reverse_charge,
        **_customer_snapshot(user, account.vat_number),
    )
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    return invoice


# --- paying ----------------------------------------------------------------


def _activate_services_of(invoice: Invoice) -> None:
    """Services billed on a paid invoice run until the end of the period paid for."""
    now = timezone.now()
    for line in invoice.lines.filter(service__isnull=False).select_related("service"):
        service = line.service
        if service.status == ServiceStatus.PENDING:
            service.status = ServiceStatus.ACTIVE
            service.activated_at = now
            service.next_due_date = line.period_end
        elif service.next_due_date == line.period_start:
            service.next_due_date = line.period_end
            if service.status == ServiceStatus.SUSPENDED:
                service.status = ServiceStatus.ACTIVE
                service.suspended_at = None
        else:
            continue
        service.save(update_fields=["status", "activated_at", "next_due_date", "suspended_at"])


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice) -> bool:
    """Marks a payable invoice paid and starts (or extends) its services.

    Idempotent: a conditional update means only the first call changes anything;
    it returns whether this call did.
    """
    updated = Invoice.objects.filter(pk=invoice.pk, status__in=PAYABLE_STATUSES).update(
        status=InvoiceStatus.PAID, paid_at=timezone.now()
    )
    if not updated:
        return False
    invoice.refresh_from_db()
    _activate_services_of(invoice)
    if invoice.order_id:
        Order.objects.filter(pk=invoice.order_id, status=OrderStatus.PENDING).update(
            status=OrderStatus.PAID
        )
    tell_customer(user=invoice.user, kind="billing-invoice-paid", context=_invoice_context(invoice))
    return True


def invoice_mark_paid_outside_stripe(*, invoice: Invoice) -> bool:
    """Staff record money received another way (bank transfer). As with cancelling, a
    card payment waiting for 3D Secure is cancelled at Stripe first and one already
    processing makes this fail, so the customer is not charged twice."""
    _payments_supersede_awaiting_action(invoice=invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _payments_fail_interrupted(invoice=locked)
        if locked.payments.filter(
            status__in=[PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION]
        ).exists():
            raise ApplicationError(
                f"A card payment of invoice {locked.number} is in progress; wait for it to settle."
            )
        return invoice_mark_paid(invoice=locked)


def invoice_cancel(*, invoice: Invoice) -> bool:
    """Cancels an unpaid invoice and ends the services it bills: a new order's pending
    services, and services whose next period it was the bill for (otherwise they would
    run on unbilled, since that period is never invoiced again). Idempotent.

    A card payment still waiting for 3D Secure is cancelled at Stripe first, so the
    customer cannot complete it afterwards; one already on its way to the bank makes
    the cancellation fail (ApplicationError) rather than take money for nothing.
    """
    _payments_supersede_awaiting_action(invoice=invoice)
    return _invoice_cancel(invoice=invoice)


@transaction.atomic
def _invoice_cancel(*, invoice: Invoice) -> bool:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status not in PAYABLE_STATUSES:
        return False
    _payments_fail_interrupted(invoice=locked)
    if locked.payments.filter(
        status__in=[PaymentStatus.PROCESSING, PaymentStatus.REQUIRES_ACTION]
    ).exists():
        raise ApplicationError(
            f"A card payment of invoice {locked.number} is in progress; "
            "cancel it once the payment has settled."
        )
    updated = Invoice.objects.filter(pk=invoice.pk, status__in=PAYABLE_STATUSES).update(
        status=InvoiceStatus.CANCELLED
    )
    if updated:
        billed_period = InvoiceLine.objects.filter(
            invoice=invoice, service=OuterRef("pk"), period_start=OuterRef("next_due_date")
        )
        Service.objects.filter(
            Q(status=ServiceStatus.PENDING, invoice_lines__invoice=invoice)
            | Q(
                Exists(billed_period),
                status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED],
            )
        ).update(status=ServiceStatus.CANCELLED, next_due_date=None)
        if invoice.order_id:
            Order.objects.filter(pk=invoice.order_id, status=OrderStatus.PENDING).update(
                status=OrderStatus.CANCELLED
            )
    return bool(updated)


def stripe_customer_ensure(*, user: Any) -> str:
    """The user's Stripe customer id, creating the customer on first need.

    The creation call carries an idempotency key per user, so two racing requests
    get the same customer back from Stripe.
    """
    account = billing_account_for(user=user)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer_id = gateway.customer_create(
        email=user.email,
        name=user.full_name or user.email,
        user_id=user.pk,
        idempotency_key=f"customer-for-user-{user.pk}-{int(user.date_joined.timestamp())}",
    )
    BillingAccount.objects.filter(pk=account.pk, stripe_customer_id="").update(
        stripe_customer_id=customer_id
    )
    account.refresh_from_db()
    return account.stripe_customer_id


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    client_secret: str  # set when the customer must authenticate in the page


_STATUS_FROM_INTENT = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "requires_confirmation": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PROCESSING,
    "requires_payment_method": PaymentStatus.FAILED,
    "canceled": PaymentStatus.FAILED,
}


def invoice_pay(
    *, invoice: Invoice, payment_method: PaymentMethod, off_session: bool = False
) -> PaymentOutcome:
    """Charges `payment_method` for `invoice` through a PaymentIntent.

    Each attempt is a Payment row whose idempotency key ("invoice-<id>-attempt-<n>")
    Stripe sees, so a retried request never charges twice. The attempt is recorded
    before the call and settled after it, outside any lock.
    """
    if payment_method.user_id != invoice.user_id:
        raise ApplicationError("This card does not belong to the invoice's customer.")
    customer_id = stripe_customer_ensure(user=invoice.user)
    _payments_supersede_awaiting_action(invoice=invoice)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not locked.is_payable:
            raise ApplicationError("This invoice has nothing left to pay.")
        _payments_fail_interrupted(invoice=locked)
        if locked.payments.filter(
            status__in=[PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED]
        ).exists():
            raise ApplicationError("A payment for this invoice is already in progress.")
        attempt = (
            locked.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
        ) + 1
        payment = Payment.objects.create(
            invoice=locked,
            attempt=attempt,
            amount=locked.total,
            currency=locked.currency,
            off_session=off_session,
        )
    try:
        intent = gateway.payment_intent_create(
            amount=payment.amount,
            currency=payment.currency,
            customer_id=customer_id,
            payment_method_id=payment_method.stripe_payment_method_id,
            idempotency_key=payment.idempotency_key,
            off_session=off_session,
            metadata={
                "invoice_id": str(invoice.pk),
                "payment_id": str(payment.pk),
                "invoice_number": invoice.number,
            },
        )
    except gateway.PaymentError as exc:
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.FAILED, failure_message=exc.message[:255]
        )
        payment.refresh_from_db()
        raise ApplicationError(exc.message) from exc
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id="").update(
            stripe_payment_intent_id=intent.id
        )
        payment = payment_apply_intent(intent=intent) or payment
    client_secret = intent.client_secret if payment.status == PaymentStatus.REQUIRES_ACTION else ""
    return PaymentOutcome(payment=payment, client_secret=client_secret)


# An attempt recorded but never sent to Stripe (the process stopped in between) stops
# blocking new attempts after this long. Should Stripe have charged it after all, its
# payment_intent.succeeded webhook still finds the attempt by metadata and settles it.
INTERRUPTED_AFTER = dt.timedelta(minutes=15)
INTERRUPTED_MESSAGE = "The payment was interrupted before it reached the bank."


def _payments_fail_interrupted(*, invoice: Invoice) -> None:
    invoice.payments.filter(
        status=PaymentStatus.PROCESSING,
        stripe_payment_intent_id="",
        created_at__lt=timezone.now() - INTERRUPTED_AFTER,
    ).update(status=PaymentStatus.FAILED, failure_message=INTERRUPTED_MESSAGE)


def _payments_supersede_awaiting_action(*, invoice: Invoice) -> None:
    """Cancels at Stripe the earlier attempts still waiting for authentication.

    Left alone, such an intent can still be confirmed (another tab, a late 3D Secure
    page) after a new attempt succeeds, and the customer would pay twice. One that
    can no longer be cancelled is read back and applied: if it succeeded, the invoice
    is paid and the new attempt is refused.
    """
    pending = invoice.payments.filter(status=PaymentStatus.REQUIRES_ACTION).exclude(
        stripe_payment_intent_id=""
    )
    for payment in pending:
        try:
            intent = gateway.payment_intent_cancel(
                payment_intent_id=payment.stripe_payment_intent_id
            )
        except gateway.PaymentError:
            try:
                intent = gateway.payment_intent_retrieve(
                    payment_intent_id=payment.stripe_payment_intent_id
                )
            except gateway.PaymentError as exc:
                raise ApplicationError(exc.message) from exc
        applied = payment_apply_intent(intent=intent)
        if applied is not None and applied.status == PaymentStatus.REQUIRES_ACTION:
            raise ApplicationError("A payment for this invoice is already in progress.")


@transaction.atomic
def payment_apply_intent(*, intent: gateway.PaymentIntent) -> Payment | None:
    """Brings our Payment (and its invoice) in line with a PaymentIntent's state.

    Safe in any order and any number of times: a succeeded payment never goes back,
    and the invoice is marked paid by a conditional update. Returns None for an
    intent we did not create.
    """
    payment = (
        Payment.objects.select_for_update()
        .select_related("invoice")
        .filter(stripe_payment_intent_id=intent.id)
        .first()
    )
    if payment is None and intent.metadata.get("payment_id", "").isdigit():
        payment = (
            Payment.objects.select_for_update()
            .select_related("invoice")
            .filter(
                pk=int(intent.metadata["payment_id"]), stripe_payment_intent_id__in=["", intent.id]
            )
            .first()
        )
    if payment is None:
        return None
    mismatch = _intent_mismatch(payment=payment, intent=intent)
    if mismatch:
        # Not the charge we asked for (another environment sharing the Stripe account,
        # or an intent changed at Stripe): it must not settle this invoice.
        logger.error(
            "PaymentIntent %s not applied to payment %s: %s.", intent.id, payment.pk, mismatch
        )
        return None
    if not payment.stripe_payment_intent_id:
        payment.stripe_payment_intent_id = intent.id
        payment.save(update_fields=["stripe_payment_intent_id"])
    new_status = _STATUS_FROM_INTENT.get(intent.status)
    if new_status is None or payment.status == PaymentStatus.SUCCEEDED:
        return payment
    fields = ["status"]
    payment.status = new_status
    if intent.charge_id:
        payment.stripe_charge_id = intent.charge_id
        fields.append("stripe_charge_id")
    if new_status == PaymentStatus.FAILED:
        payment.failure_message = (intent.failure_message or "The payment did not go through.")[
            :255
        ]
        fields.append("failure_message")
    payment.save(update_fields=fields)
    if new_status == PaymentStatus.SUCCEEDED:
        if not invoice_mark_paid(invoice=payment.invoice):
            payment_flag_for_refund(payment=payment)
    elif new_status == PaymentStatus.FAILED and payment.off_session:
        tell_customer(
            user=payment.invoice.user,
            kind="billing-payment-failed",
            context={**_invoice_context(payment.invoice), "reason": payment.failure_message},
        )
    return payment


def payment_flag_for_refund(*, payment: Payment) -> bool:
    """Money came in for an invoice that was paid another way or cancelled meanwhile:
    flags the payment "needs refund" and tells staff, once per payment (a conditional
    update, so a redelivered webhook or a second caller does nothing)."""
    now = timezone.now()
    flagged = Payment.objects.filter(pk=payment.pk, needs_refund_since__isnull=True).update(
        needs_refund=True, needs_refund_since=now
    )
    if not flagged:
        return False
    payment.needs_refund, payment.needs_refund_since = True, now
    invoice_status = Invoice.objects.values_list("status", flat=True).get(pk=payment.invoice_id)
    logger.error(
        "Payment %s succeeded on invoice %s, which is %s: refund it in Stripe.",
        payment.pk,
        payment.invoice.number,
        invoice_status,
    )
    tell_staff(
        kind="billing-staff-payment-needs-refund",
        context={
            "invoice_number": payment.invoice.number,
            "invoice_status": InvoiceStatus(invoice_status).label.lower(),
            "amount": format_money(payment.amount, payment.currency),
            "payment_intent": payment.stripe_payment_intent_id,
            "payment_admin_url": settings.SITE_URL.rstrip("/")
            + reverse("admin:billing_payment_change", args=[payment.pk]),
        },
    )
    return True


def payment_refund_handled(*, payments: Any) -> int:
    """Staff refunded these flagged payments in Stripe; `needs_refund_since` stays as the
    record (and keeps a redelivered event from flagging them again)."""
    return payments.filter(needs_refund=True).update(needs_refund=False)


def _intent_mismatch(*, payment: Payment, intent: gateway.PaymentIntent) -> str:
    """Why `intent` is not the charge recorded as `payment` ("" when it is)."""
    if intent.amount != payment.amount or intent.currency != payment.currency:
        return (
            f"Stripe has {intent.amount} {intent.currency}, "
            f"we asked for {payment.amount} {payment.currency}"
        )
    if intent.customer_id:
        ours = (
            BillingAccount.objects.filter(user_id=payment.invoice.user_id)
            .values_list("stripe_customer_id", flat=True)
            .first()
        )
        # After an erasure we no longer know the customer: amount and currency decide.
        if ours and intent.customer_id != ours:
            return "the intent belongs to another Stripe customer"
    return ""


# --- cards -----------------------------------------------------------------


def card_setup_begin(*, user: Any) -> gateway.SetupIntent:
    """A SetupIntent for the Card Element; the card data then goes browser to Stripe."""
    return gateway.setup_intent_create(customer_id=stripe_customer_ensure(user=user))


def card_setup_complete(*, user: Any, setup_intent_id: str) -> PaymentMethod:
    """Saves the card of a succeeded SetupIntent that belongs to `user`'s Stripe customer."""
    account = billing_account_for(user=user)
    intent = gateway.setup_intent_retrieve(setup_intent_id=setup_intent_id)
    if not account.stripe_customer_id or intent.customer_id != account.stripe_customer_id:
        raise ApplicationError("This card setup does not belong to your account.")
    if intent.status != "succeeded" or not intent.payment_method_id:
        raise ApplicationError("The card was not confirmed. Please try again.")
    card = gateway.payment_method_retrieve(payment_method_id=intent.payment_method_id)
    if card.customer_id != account.stripe_customer_id:
        # Stripe attaches it on success; other servers may not, so we make sure.
        card = gateway.payment_method_attach(
            payment_method_id=card.payment_method_id, customer_id=account.stripe_customer_id
        )
    return card_save(user=user, card=card)


@transaction.atomic
def card_save(*, user: Any, card: gateway.Card) -> PaymentMethod:
    """Creates or refreshes our copy of a card's metadata; the first card becomes default.

    Idempotent by Stripe's payment method id.
    """
    values = {
        "brand": card.brand,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "country": card.country,
        "fingerprint": card.fingerprint,
        "three_d_secure_supported": card.three_d_secure_supported,
    }
    # One save per customer at a time: the page and Stripe's webhooks save the same new
    # card at about the same moment, and both would insert it.
    BillingAccount.objects.select_for_update().filter(user=user).first()
    existing = (
        PaymentMethod.objects.select_for_update()
        .filter(stripe_payment_method_id=card.payment_method_id)
        .first()
    )
    if existing is not None:
        if existing.user_id != user.pk:
            raise ApplicationError("This card does not belong to your account.")
        for name, value in values.items():
            setattr(existing, name, value)
        existing.save(update_fields=list(values))
        return existing
    # Lock the customer's cards so two saves cannot both become the default.
    has_default = (
        PaymentMethod.objects.select_for_update().filter(user=user, is_default=True).exists()
    )
    return PaymentMethod.objects.create(
        user=user,
        stripe_payment_method_id=card.payment_method_id,
        is_default=not has_default,
        **values,
    )


def card_set_default(*, user: Any, payment_method: PaymentMethod) -> None:
    """Makes the card the one renewals are charged to, here and at Stripe."""
    if payment_method.user_id != user.pk:
        raise ApplicationError("This card does not belong to your account.")
    gateway.customer_set_default_payment_method(
        customer_id=stripe_customer_ensure(user=user),
        payment_method_id=payment_method.stripe_payment_method_id,
    )
    card_mark_default(user=user, payment_method_id=payment_method.pk)


@transaction.atomic
def card_mark_default(*, user: Any, payment_method_id: int) -> None:
    PaymentMethod.objects.select_for_update().filter(user=user).exists()
    PaymentMethod.objects.filter(user=user, is_default=True).exclude(pk=payment_method_id).update(
        is_default=False
    )
    PaymentMethod.objects.filter(user=user, pk=payment_method_id).update(is_default=True)


def card_remove(*, user: Any, payment_method: PaymentMethod) -> None:
    """Detaches the card at Stripe and forgets it; the newest other card becomes default."""
    if payment_method.user_id != user.pk:
        raise ApplicationError("This card does not belong to your account.")
    gateway.payment_method_detach(payment_method_id=payment_method.stripe_payment_method_id)
    card_forget(stripe_payment_method_id=payment_method.stripe_payment_method_id)


@transaction.atomic
def card_forget(*, stripe_payment_method_id: str) -> None:
    """Deletes our copy of a detached card. Idempotent."""
    card = (
        PaymentMethod.objects.select_for_update()
        .filter(stripe_payment_method_id=stripe_payment_method_id)
        .first()
    )
    if card is None:
        return
    was_default = card.is_default
    user_id = card.user_id
    card.delete()
    if was_default:
        successor = PaymentMethod.objects.filter(user_id=user_id).order_by("-created_at").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


# --- refunds and credit notes ---------------------------------------------


def invoice_refund(*, invoice: Invoice, amount: int | None = None, reason: str = "") -> CreditNote:
    """Refunds (part of) a paid invoice through Stripe and issues the credit note.

    The idempotency key names the invoice and what was already credited, so a
    double click refunds once; charge.refunded arriving later finds the note.
    """
    payment = invoice.payments.filter(status=PaymentStatus.SUCCEEDED).first()
    if invoice.status != InvoiceStatus.PAID or payment is None:
        raise ApplicationError("Only an invoice paid by card can be refunded.")
    credited = invoice.credit_notes.aggregate(total=Sum("amount"))["total"] or 0
    remaining = invoice.total - credited
    amount = remaining if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise ApplicationError(
            f"The refund must be between 0.01 and {format_money(remaining, invoice.currency)}."
        )
    try:
        refund = gateway.refund_create(
            payment_intent_id=payment.stripe_payment_intent_id,
            amount=amount,
            # PaymentIntent ids are unique at Stripe, so the key is too.
            idempotency_key=f"refund-{payment.stripe_payment_intent_id}-after-{credited}-{amount}",
        )
    except gateway.PaymentError as exc:
        raise ApplicationError(exc.message) from exc
    return credit_note_issue(
        invoice=invoice, amount=amount, stripe_refund_id=refund.id, reason=reason
    )


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, amount: int, stripe_refund_id: str, reason: str = ""
) -> CreditNote:
    """The credit note for one Stripe refund (idempotent by refund id); the invoice becomes
    refunded once fully credited."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    existing = CreditNote.objects.filter(stripe_refund_id=stripe_refund_id).first()
    if existing is not None:
        return existing
    credited = locked.credit_notes.aggregate(total=Sum("amount"))["total"] or 0
    amount = min(amount, locked.total - credited)
    if amount <= 0:
        raise ApplicationError("This invoice has been credited in full already.")
    today = timezone.localdate()
    sequence = _take_numbers(series="CN", year=today.year, count=1)
    note = CreditNote.objects.create(
        invoice=locked,
        year=today.year,
        sequence=sequence,
        number=_credit_note_number(today.year, sequence),
        amount=amount,
        currency=locked.currency,
        reason=reason[:255],
        stripe_refund_id=stripe_refund_id,
        issued_on=today,
    )
    if credited + amount >= locked.total:
        locked.status = InvoiceStatus.REFUNDED
        locked.save(update_fields=["status"])
    tell_customer(
        user=locked.user,
        kind="billing-credit-note-issued",
        context={
            **_invoice_context(locked),
            "credit_note_number": note.number,
            "credit_amount": format_money(note.amount, note.currency),
        },
    )
    return note


# --- beat jobs -------------------------------------------------------------


def renewals_generate(*, today: dt.date, days_ahead: int, batch_size: int = 5000) -> list[int]:
    """Issues the next invoice of every active service due within `days_ahead` days.

    Set-based: per batch one query finds services not yet invoiced for their next
    period, one takes a block of invoice numbers, two bulk inserts write invoices and
    lines. Idempotent: the (service, period_start) unique line means a second run
    finds nothing. Each batch is its own transaction holding the counter lock, so
    two workers never interleave. Returns the new invoice ids.
    """
    already_billed = InvoiceLine.objects.filter(
        service=OuterRef("pk"), period_start=OuterRef("next_due_date")
    )
    rates = {str(rate.country): rate for rate in TaxRate.objects.all()}
    created: list[int] = []
    while True:
        with transaction.atomic():
            DocumentCounter.objects.get_or_create(series="INV", year=today.year)
            DocumentCounter.objects.select_for_update().get(series="INV", year=today.year)
            due = list(
                Service.objects.filter(
                    status=ServiceStatus.ACTIVE,
                    next_due_date__isnull=False,
                    next_due_date__lte=today + dt.timedelta(days=days_ahead),
                )
                .exclude(Exists(already_billed))
                .select_related("product", "user", "user__billing_account")
                .order_by("pk")[:batch_size]
            )
            if not due:
                return created
            first = _take_numbers(series="INV", year=today.year, count=len(due))
            invoices = []
            for offset, service in enumerate(due):
                user = service.user
                account = getattr(user, "billing_account", None)
                vat = account.vat_number if account else ""
                tax = tax_decision(
                    rate=rates.get(str(user.country)), country=str(user.country), vat_number=vat
                )
                tax_amount = percent_of(service.amount, tax.rate)
                invoices.append(
                    Invoice(
                        user=user,
                        year=today.year,
                        sequence=first + offset,
                        number=_invoice_number(today.year, first + offset),
                        currency=service.currency,
                        issued_on=today,
                        due_date=service.next_due_date,
                        subtotal=service.amount,
                        tax_amount=tax_amount,
                        total=service.amount + tax_amount,
                        tax_name=tax.name,
                        tax_rate=tax.rate,
                        reverse_charge=tax.reverse_charge,
                        **_customer_snapshot(user, vat),
                    )
                )
            Invoice.objects.bulk_create(invoices)
            lines = []
            for invoice, service in zip(invoices, due, strict=True):
                end = BillingCycle.advance(service.next_due_date, service.cycle)
                lines.append(
                    InvoiceLine(
                        invoice=invoice,
                        description=f"{service.product.name} "
                        f"({service.get_cycle_display().lower()}), "
                        f"{service.next_due_date:%d %b %Y} to {end:%d %b %Y}",
                        unit_amount=service.amount,
                        amount=service.amount,
                        service=service,
                        period_start=service.next_due_date,
                        period_end=end,
                    )
                )
            InvoiceLine.objects.bulk_create(lines)
            for invoice in invoices:
                if invoice.total == 0:  # free services renew without a bill to pay
                    invoice_mark_paid(invoice=invoice)
            created.extend(invoice.pk for invoice in invoices)


def invoices_announce(*, invoice_ids: list[int], kind: str) -> None:
    """Tells each invoice's customer about it (one message per invoice)."""
    for invoice in Invoice.objects.filter(pk__in=invoice_ids).select_related("user"):
        tell_customer(user=invoice.user, kind=kind, context=_invoice_context(invoice))


@transaction.atomic
def invoices_mark_overdue(*, today: dt.date) -> list[int]:
    """Unpaid invoices past their due date become overdue. Idempotent; returns the ids
    changed by this run."""
    ids = list(
        Invoice.objects.select_for_update(skip_locked=True)
        .filter(status=InvoiceStatus.UNPAID, due_date__lt=today)
        .values_list("pk", flat=True)
    )
    Invoice.objects.filter(pk__in=ids, status=InvoiceStatus.UNPAID).update(
        status=InvoiceStatus.OVERDUE
    )
    return ids


@transaction.atomic
def services_suspend_overdue(*, today: dt.date, grace_days: int) -> list[int]:
    """Suspends active services whose invoice has been overdue more than `grace_days`.

    Set-based and idempotent: returns the ids suspended by this run.
    """
    overdue_line = InvoiceLine.objects.filter(
        service=OuterRef("pk"),
        invoice__status=InvoiceStatus.OVERDUE,
        invoice__due_date__lt=today - dt.timedelta(days=grace_days),
    )
    ids = list(
        Service.objects.filter(status=ServiceStatus.ACTIVE)
        .filter(Exists(overdue_line))
        .values_list("pk", flat=True)
    )
    Service.objects.filter(pk__in=ids, status=ServiceStatus.ACTIVE).update(
        status=ServiceStatus.SUSPENDED, suspended_at=timezone.now()
    )
    return ids


@transaction.atomic
def invoices_due_for_reminder(*, today: dt.date, days_before: int) -> list[int]:
    """Claims the unpaid invoices due within `days_before` days that had no reminder yet.

    The claim (reminder_sent_at) is written in the same statement, so a second run
    reminds nobody twice.
    """
    ids = list(
        Invoice.objects.select_for_update(skip_locked=True)
        .filter(
            status=InvoiceStatus.UNPAID,
            reminder_sent_at__isnull=True,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=days_before),
        )
        .values_list("pk", flat=True)
    )
    Invoice.objects.filter(pk__in=ids).update(reminder_sent_at=timezone.now())
    return ids


def invoices_to_auto_charge(*, today: dt.date, max_attempts: int) -> list[int]:
    """Payable invoices due today or earlier whose customer has a default card, with no
    attempt today, none in flight, and fewer than `max_attempts` attempts. One query."""
    default_card = PaymentMethod.objects.filter(user=OuterRef("user"), is_default=True)
    tried_today = Payment.objects.filter(invoice=OuterRef("pk"), created_at__date=today)
    busy = Payment.objects.filter(invoice=OuterRef("pk")).filter(
        Q(status=PaymentStatus.SUCCEEDED)
        | Q(status=PaymentStatus.PROCESSING, stripe_payment_intent_id__gt="")
        | Q(
            status=PaymentStatus.PROCESSING,
            created_at__gte=timezone.now() - INTERRUPTED_AFTER,
        )
    )
    return list(
        Invoice.objects.filter(status__in=PAYABLE_STATUSES, due_date__lte=today, total__gt=0)
        .filter(Exists(default_card))
        .exclude(Exists(tried_today))
        .exclude(Exists(busy))
        .annotate(attempts=Count("payments"))
        .filter(attempts__lt=max_attempts)
        .values_list("pk", flat=True)
    )


def invoice_auto_charge(*, invoice_id: int) -> PaymentOutcome | None:
    """Charges the customer's default card off-session. When the bank asks for
    authentication, the customer is told to pay in the client area."""
    invoice = Invoice.objects.select_related("user").get(pk=invoice_id)
    card = PaymentMethod.objects.filter(user_id=invoice.user_id, is_default=True).first()
    if card is None or not invoice.is_payable:
        return None
    try:
        return invoice_pay(invoice=invoice, payment_method=card, off_session=True)
    except ApplicationError as exc:
        logger.info("Auto-charge of invoice %s failed: %s", invoice.number, exc.message)
        return None


def services_announce_suspension(*, service_ids: list[int]) -> None:
    """Tells each customer which service was suspended and why."""
    for service in Service.objects.filter(pk__in=service_ids).select_related("user", "product"):
        tell_customer(
            user=service.user,
            kind="billing-service-suspended",
            context={
                "service_name": service.product.name,
                "invoices_url": settings.SITE_URL.rstrip("/") + reverse("billing:invoices"),
            },
        )
