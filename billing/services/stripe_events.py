"""Stripe's webhook events: stored once, applied by a worker, one handler per type.

Every handler reads the event's object through the gateway into our dataclasses and
makes one service call; each is safe in any order and more than once, because the
services move our rows towards Stripe's state idempotently.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing import stripe_payloads
from billing.models import StripeCustomerDeletion, StripeEvent

from . import cards, payments, refunds

logger = logging.getLogger(__name__)


@transaction.atomic
def stripe_event_record(*, event: dict[str, Any]) -> StripeEvent:
    """Stores a verified event once by its id. The caller queues it for a worker while
    `processed_at` is unset: a repeat of an event applied already is only acknowledged;
    one stored but not applied yet (a worker failed) is queued again, which is safe
    because applying takes a row lock and checks processed_at."""
    stored, _ = StripeEvent.objects.get_or_create(
        event_id=str(event["id"]),
        defaults={"type": str(event["type"])[:100], "payload": event},
    )
    return stored


def work_dropped(*, before: datetime.datetime, limit: int = 500) -> tuple[list[int], list[str]]:
    """What a request queued before `before` and no worker took up: stored events never
    tried (a failed one has its error and its own retries), and customer deletions
    Stripe has not done. Both tasks are idempotent, so a late original is harmless."""
    events = StripeEvent.objects.filter(
        processed_at__isnull=True, error="", received_at__lt=before
    ).order_by("received_at")
    deletions = StripeCustomerDeletion.objects.filter(
        deleted_at__isnull=True, error="", requested_at__lt=before
    ).order_by("requested_at")
    return (
        list(events.values_list("pk", flat=True)[:limit]),
        list(deletions.values_list("customer_id", flat=True)[:limit]),
    )


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
        obj = stripe_payloads.event_object(event.payload)
        if handler is None:
            logger.info("Stripe event %s of type %s is not handled.", event.event_id, event.type)
        elif obj is None:
            logger.warning("Stripe event %s carries no object; ignored.", event.event_id)
        else:
            handler(obj, stripe_payloads.event_created(event.payload) or event.received_at)
        event.processed_at = timezone.now()
        event.error = ""
        event.save(update_fields=["processed_at", "error"])
    return True


def _on_payment_intent(obj: dict[str, Any], at: datetime.datetime) -> None:
    payments.payment_apply_intent(intent=stripe_payloads.payment_intent_from_payload(obj))


def _on_setup_intent_succeeded(obj: dict[str, Any], at: datetime.datetime) -> None:
    cards.card_follow_setup(setup_intent=stripe_payloads.setup_intent_from_payload(obj))


def _on_payment_method_attached(obj: dict[str, Any], at: datetime.datetime) -> None:
    card = stripe_payloads.card_from_payload(obj)
    if card is not None:
        cards.card_follow_attached(card=card)


def _on_payment_method_updated(obj: dict[str, Any], at: datetime.datetime) -> None:
    card = stripe_payloads.card_from_payload(obj)
    if card is not None:
        cards.card_follow_update(card=card)


def _on_payment_method_detached(obj: dict[str, Any], at: datetime.datetime) -> None:
    cards.card_forget(stripe_payment_method_id=stripe_payloads.object_id_from_payload(obj))


def _on_charge_refunded(obj: dict[str, Any], at: datetime.datetime) -> None:
    refunds.credit_notes_follow_charge(charge=stripe_payloads.charge_from_payload(obj))


def _on_dispute(obj: dict[str, Any], at: datetime.datetime) -> None:
    payments.payment_follow_dispute(dispute=stripe_payloads.dispute_from_payload(obj), at=at)


def _on_customer_updated(obj: dict[str, Any], at: datetime.datetime) -> None:
    cards.card_follow_customer_default(customer_id=stripe_payloads.object_id_from_payload(obj))


# Each handler gets the event's object and when Stripe created the event.
HANDLERS: dict[str, Callable[[dict[str, Any], datetime.datetime], None]] = {
    "payment_intent.succeeded": _on_payment_intent,
    "payment_intent.payment_failed": _on_payment_intent,
    "payment_intent.requires_action": _on_payment_intent,
    "setup_intent.succeeded": _on_setup_intent_succeeded,
    "payment_method.attached": _on_payment_method_attached,
    "payment_method.updated": _on_payment_method_updated,
    "payment_method.automatically_updated": _on_payment_method_updated,
    "payment_method.detached": _on_payment_method_detached,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute,
    "charge.dispute.updated": _on_dispute,
    "charge.dispute.closed": _on_dispute,
    "customer.updated": _on_customer_updated,
}
