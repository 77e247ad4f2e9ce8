"""Stripe webhooks: verify, store once, answer fast; a worker applies the event.

Every handler is safe to run in any order and more than once: each one moves our
rows towards Stripe's state through the same idempotent services the pages use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError

from . import gateway, services
from .models import BillingAccount, Payment, PaymentMethod, StripeEvent

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = gateway.webhook_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except gateway.WebhookSignatureError:
        return HttpResponse("Invalid or missing signature.", status=400, content_type="text/plain")
    stripe_event_record(event=event)
    return HttpResponse("ok", content_type="text/plain")


@transaction.atomic
def stripe_event_record(*, event: dict[str, Any]) -> StripeEvent:
    """Stores the event once by its id and queues it for a worker on commit.

    A repeat delivery of an event already applied is only acknowledged; one that
    is stored but not applied yet (a worker failed) is queued again, which is safe
    because applying takes a row lock and checks processed_at.
    """
    from .tasks import process_stripe_event

    stored, created = StripeEvent.objects.get_or_create(
        event_id=str(event["id"]),
        defaults={"type": str(event["type"])[:100], "payload": event},
    )
    if created or stored.processed_at is None:
        process_stripe_event.delay_on_commit(stored.pk)
    return stored


def stripe_event_apply(*, event_pk: int) -> bool:
    """Applies a stored event in one transaction; False when it was applied before.

    When a handler fails, nothing it did is kept, the reason is written on the event
    (visible in the admin) and the error propagates so the task can retry.
    """
    try:
        return _apply(event_pk)
    except Exception as exc:
        StripeEvent.objects.filter(pk=event_pk, processed_at__isnull=True).update(
            error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise


def _apply(event_pk: int) -> bool:
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_pk)
        if event.processed_at is not None:
            return False
        handler = HANDLERS.get(event.type)
        data = event.payload.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if handler is None:
            logger.info("Stripe event %s of type %s is not handled.", event.event_id, event.type)
        elif not isinstance(obj, dict):
            logger.warning("Stripe event %s carries no object; ignored.", event.event_id)
        else:
            handler(obj)
        event.processed_at = timezone.now()
        event.error = ""
        event.save(update_fields=["processed_at", "error"])
    return True


def _on_payment_intent(obj: dict[str, Any]) -> None:
    if not obj.get("id"):
        return
    services.payment_apply_intent(intent=gateway.payment_intent_from_payload(obj))


def _user_for_customer(customer: Any) -> Any | None:
    customer_id = customer if isinstance(customer, str) else (customer or {}).get("id", "")
    if not customer_id:
        return None
    account = (
        BillingAccount.objects.select_related("user").filter(stripe_customer_id=customer_id).first()
    )
    return account.user if account else None


def _on_setup_intent_succeeded(obj: dict[str, Any]) -> None:
    user = _user_for_customer(obj.get("customer"))
    pm = obj.get("payment_method")
    pm_id = pm if isinstance(pm, str) else (pm or {}).get("id", "")
    if user is None or not pm_id:
        return
    if PaymentMethod.objects.filter(stripe_payment_method_id=pm_id).exists():
        return
    _save_if_still_attached(user=user, payment_method_id=pm_id)


def _on_payment_method_attached(obj: dict[str, Any]) -> None:
    if obj.get("type") not in (None, "card") or not obj.get("id"):
        return
    user = _user_for_customer(obj.get("customer"))
    if user is not None:
        _save_if_still_attached(user=user, payment_method_id=str(obj["id"]))


def _save_if_still_attached(*, user: Any, payment_method_id: str) -> None:
    """Saves a card as Stripe has it now, only while it is attached to the customer.

    Events can be applied late: a card the customer removed since (detached at
    Stripe) must not come back, nor be attached again, from an old event.
    """
    card = gateway.payment_method_retrieve(payment_method_id=payment_method_id)
    if card.customer_id and card.customer_id == user.billing_account.stripe_customer_id:
        services.card_save(user=user, card=card)


def _on_payment_method_updated(obj: dict[str, Any]) -> None:
    existing = PaymentMethod.objects.filter(stripe_payment_method_id=obj.get("id", "")).first()
    if existing is not None:
        services.card_save(user=existing.user, card=gateway.card_from_payload(obj))


def _on_payment_method_detached(obj: dict[str, Any]) -> None:
    services.card_forget(stripe_payment_method_id=obj.get("id", ""))


def _payment_for_charge(obj: dict[str, Any]) -> Payment | None:
    intent = obj.get("payment_intent")
    intent_id = intent if isinstance(intent, str) else (intent or {}).get("id", "")
    if not intent_id:
        return None
    return (
        Payment.objects.select_related("invoice").filter(stripe_payment_intent_id=intent_id).first()
    )


# Refunds that gave nothing back; a pending one counts, as in the charge's amount_refunded.
UNDONE = {"failed", "canceled"}


def _on_charge_refunded(obj: dict[str, Any]) -> None:
    """A refund made here or in Stripe's dashboard: one credit note per refund not
    credited yet, for that refund's amount.

    Charge objects of current API versions carry no refund list; when the payload's
    list does not account for amount_refunded, the refunds are read from Stripe, so
    every credit note names its real refund and a later call for the same refund
    (the admin's own, arriving second) finds it.
    """
    payment = _payment_for_charge(obj)
    if payment is None:
        return
    invoice = payment.invoice
    refunded = int(obj.get("amount_refunded") or 0)
    credited = invoice.credit_notes.aggregate(total=Sum("amount"))["total"] or 0
    if refunded <= credited:
        return
    listed = [
        gateway.Refund(
            id=str(item.get("id", "")),
            status=str(item.get("status") or "succeeded"),
            amount=int(item.get("amount") or 0),
            currency=str(item.get("currency") or "").upper(),
        )
        for item in ((obj.get("refunds") or {}).get("data") or [])
        if item.get("id")
    ]
    if sum(refund.amount for refund in listed if refund.status not in UNDONE) < refunded:
        listed = gateway.refund_list(payment_intent_id=payment.stripe_payment_intent_id)
    known = set(invoice.credit_notes.values_list("stripe_refund_id", flat=True))
    for refund in listed:
        if refund.id in known or refund.status in UNDONE or refund.amount <= 0:
            continue
        try:
            services.credit_note_issue(
                invoice=invoice,
                amount=refund.amount,
                stripe_refund_id=refund.id,
                reason="Refunded through Stripe",
            )
        except ApplicationError:
            logger.info("Invoice %s is credited in full already.", invoice.number)
            return


def _on_dispute_created(obj: dict[str, Any]) -> None:
    payment = _payment_for_charge(obj)
    if payment is None:
        return
    Payment.objects.filter(pk=payment.pk, disputed_at__isnull=True).update(
        disputed_at=timezone.now()
    )
    logger.warning(
        "The customer disputed the payment of invoice %s (%s).",
        payment.invoice.number,
        obj.get("reason", "no reason given"),
    )


def _on_customer_updated(obj: dict[str, Any]) -> None:
    """Follows the default card Stripe has now, not the one in the (possibly late) event."""
    user = _user_for_customer(obj.get("id"))
    if user is None:
        return
    default = gateway.customer_default_payment_method(
        customer_id=user.billing_account.stripe_customer_id
    )
    if not default:
        return
    card = PaymentMethod.objects.filter(user=user, stripe_payment_method_id=default).first()
    if card is not None and not card.is_default:
        services.card_mark_default(user=user, payment_method_id=card.pk)


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "payment_intent.succeeded": _on_payment_intent,
    "payment_intent.payment_failed": _on_payment_intent,
    "payment_intent.requires_action": _on_payment_intent,
    "setup_intent.succeeded": _on_setup_intent_succeeded,
    "payment_method.attached": _on_payment_method_attached,
    "payment_method.updated": _on_payment_method_updated,
    "payment_method.automatically_updated": _on_payment_method_updated,
    "payment_method.detached": _on_payment_method_detached,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
    "customer.updated": _on_customer_updated,
}
