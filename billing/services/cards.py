"""Saved cards: set up in the page through Stripe, chosen as default, removed, and kept
in line with Stripe's card events."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from billing import gateway, stripe_payloads
from billing.models import BillingAccount, PaymentMethod
from core.exceptions import ApplicationError

from .customers import billing_account_for, stripe_customer_ensure, user_for_stripe_customer


def card_setup_begin(*, user: User) -> stripe_payloads.SetupIntent:
    """A SetupIntent for the Card Element; the card data then goes browser to Stripe."""
    return gateway.setup_intent_create(customer_id=stripe_customer_ensure(user=user))


def card_setup_complete(*, user: User, setup_intent_id: str) -> PaymentMethod:
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
def card_save(*, user: User, card: stripe_payloads.Card) -> PaymentMethod:
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


def card_set_default(*, user: User, payment_method: PaymentMethod) -> None:
    """Makes the card the one renewals are charged to, here and at Stripe."""
    if payment_method.user_id != user.pk:
        raise ApplicationError("This card does not belong to your account.")
    gateway.customer_set_default_payment_method(
        customer_id=stripe_customer_ensure(user=user),
        payment_method_id=payment_method.stripe_payment_method_id,
    )
    card_mark_default(user=user, payment_method_id=payment_method.pk)


@transaction.atomic
def card_mark_default(*, user: User, payment_method_id: int) -> None:
    """Our copy of which card is the default (one per customer, under a lock)."""
    PaymentMethod.objects.select_for_update().filter(user=user).exists()
    PaymentMethod.objects.filter(user=user, is_default=True).exclude(pk=payment_method_id).update(
        is_default=False
    )
    PaymentMethod.objects.filter(user=user, pk=payment_method_id).update(is_default=True)


def card_remove(*, user: User, payment_method: PaymentMethod) -> None:
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


# --- following Stripe ------------------------------------------------------
# Events can be applied late and in any order: each of these reads what Stripe has
# now where the event alone could bring back a card the customer removed since.


def _card_save_if_still_attached(*, user: User, payment_method_id: str) -> None:
    """Saves a card as Stripe has it now, only while it is attached to the customer
    (`user` comes with its billing account, from user_for_stripe_customer).

    A card the customer removed since (detached at Stripe) must not come back, nor be
    attached again, from an old event.
    """
    card = gateway.payment_method_retrieve(payment_method_id=payment_method_id)
    if card.customer_id and card.customer_id == user.billing_account.stripe_customer_id:
        card_save(user=user, card=card)


def card_follow_setup(*, setup_intent: stripe_payloads.SetupIntent) -> None:
    """setup_intent.succeeded: saves the new card unless the page saved it already."""
    user = user_for_stripe_customer(customer_id=setup_intent.customer_id)
    pm_id = setup_intent.payment_method_id
    if user is None or not pm_id:
        return
    if PaymentMethod.objects.filter(stripe_payment_method_id=pm_id).exists():
        return
    _card_save_if_still_attached(user=user, payment_method_id=pm_id)


def card_follow_attached(*, card: stripe_payloads.Card) -> None:
    """payment_method.attached: saves the card while Stripe still has it attached."""
    user = user_for_stripe_customer(customer_id=card.customer_id)
    if user is not None:
        _card_save_if_still_attached(user=user, payment_method_id=card.payment_method_id)


def card_follow_update(*, card: stripe_payloads.Card) -> None:
    """payment_method.updated (new expiry, a reissued card): refreshes a card we keep."""
    existing = (
        PaymentMethod.objects.select_related("user")
        .filter(stripe_payment_method_id=card.payment_method_id)
        .first()
    )
    if existing is not None:
        card_save(user=existing.user, card=card)


def card_follow_customer_default(*, customer_id: str) -> None:
    """customer.updated: follows the default card Stripe has now, not the one in the
    (possibly late) event."""
    user = user_for_stripe_customer(customer_id=customer_id)
    if user is None:
        return
    default = gateway.customer_default_payment_method(customer_id=customer_id)
    if not default:
        return
    card = PaymentMethod.objects.filter(user=user, stripe_payment_method_id=default).first()
    if card is not None and not card.is_default:
        card_mark_default(user=user, payment_method_id=card.pk)
