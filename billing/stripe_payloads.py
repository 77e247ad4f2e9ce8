"""Stripe's objects as our own dataclasses, read from Stripe's answers and from webhook
payloads, and Stripe's decline codes in words a customer understands.

Plain dicts in, frozen dataclasses out: no stripe import here (billing.gateway makes
the calls and hands the answers to these readers). A stored event is applied later by
a worker; an object missing what a handler needs reads as None or as empty values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    customer_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    country: str
    fingerprint: str
    three_d_secure_supported: bool


@dataclass(frozen=True)
class SetupIntent:
    id: str
    client_secret: str
    status: str
    payment_method_id: str
    customer_id: str


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    client_secret: str
    amount: int
    currency: str
    charge_id: str
    failure_message: str
    metadata: dict[str, str]
    customer_id: str = ""
    # Stripe Radar's outcome of the charge (latest_charge.outcome), when Stripe sent it.
    risk_level: str = ""
    risk_score: int | None = None


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    amount: int
    currency: str


# Stripe's decline codes in words a customer understands.
DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "card_declined": "Your card was declined by your bank.",
    "generic_decline": "Your card was declined by your bank.",
    "do_not_honor": "Your card was declined by your bank.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "The card's security code is incorrect.",
    "incorrect_number": "The card number is incorrect.",
    "lost_card": "Your card was declined by your bank.",
    "stolen_card": "Your card was declined by your bank.",
    "fraudulent": "Your card was declined by your bank.",
    "processing_error": "Your bank could not process the payment. Please try again.",
    "authentication_required": "Your bank asks you to confirm this payment.",
    "card_velocity_exceeded": "Your card has reached its spending limit.",
}


def id_of(value: Any) -> str:
    """An expandable field: Stripe sends either the id or the whole object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def card_of(pm: dict[str, Any]) -> Card:
    card = pm.get("card") or {}
    usage = card.get("three_d_secure_usage") or {}
    return Card(
        payment_method_id=pm["id"],
        customer_id=id_of(pm.get("customer")),
        brand=card.get("brand", "") or "card",
        last4=card.get("last4", "") or "",
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        country=card.get("country", "") or "",
        fingerprint=card.get("fingerprint", "") or "",
        three_d_secure_supported=bool(usage.get("supported", False)),
    )


def payment_intent_from_payload(pi: dict[str, Any]) -> PaymentIntent:
    """A payment_intent object (from a response or a webhook event) as our PaymentIntent."""
    error = pi.get("last_payment_error") or {}
    decline = error.get("decline_code") or error.get("code") or ""
    failure = ""
    if error:
        failure = DECLINE_MESSAGES.get(decline) or error.get("message") or "Your card was declined."
    charge = pi.get("latest_charge")
    outcome = (charge.get("outcome") or {}) if isinstance(charge, dict) else {}
    risk_score = outcome.get("risk_score")
    return PaymentIntent(
        id=str(pi.get("id") or ""),
        status=pi.get("status", ""),
        client_secret=pi.get("client_secret") or "",
        amount=int(pi.get("amount") or 0),
        currency=(pi.get("currency") or "").upper(),
        charge_id=id_of(pi.get("latest_charge")),
        failure_message=failure,
        metadata={str(k): str(v) for k, v in (pi.get("metadata") or {}).items()},
        customer_id=id_of(pi.get("customer")),
        risk_level=str(outcome.get("risk_level") or ""),
        risk_score=int(risk_score) if isinstance(risk_score, int) else None,
    )


@dataclass(frozen=True)
class StripeCustomer:
    """What Stripe holds about a customer, for the customer's own GDPR export."""

    id: str
    email: str
    name: str
    phone: str
    address: dict[str, str]
    created: int
    metadata: dict[str, str]
    cards: list[Card]


def setup_intent_from_payload(data: dict[str, Any]) -> SetupIntent:
    """A setup_intent object (from a response or a webhook event) as our SetupIntent."""
    return SetupIntent(
        id=str(data.get("id") or ""),
        client_secret=data.get("client_secret") or "",
        status=data.get("status", ""),
        payment_method_id=id_of(data.get("payment_method")),
        customer_id=id_of(data.get("customer")),
    )


def refund_of(data: dict[str, Any]) -> Refund:
    return Refund(
        id=data["id"],
        status=data.get("status", ""),
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").upper(),
    )


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str
    amount_refunded: int
    refunds: list[Refund]  # as listed in the payload, which may be incomplete


# Stripe's dispute statuses that end a dispute (its Dispute object's `status`): an
# inquiry closed without a chargeback, won, lost, or prevented by an early-fraud refund.
DISPUTE_CLOSED_STATUSES = frozenset({"warning_closed", "won", "lost", "prevented"})


@dataclass(frozen=True)
class Dispute:
    payment_intent_id: str
    reason: str
    id: str = ""
    charge_id: str = ""  # the charge disputed; payment_intent is null on some disputes
    status: str = ""  # Stripe's: warning_needs_response ... needs_response, won, lost
    created: dt.datetime | None = None  # when Stripe opened it

    @property
    def is_closed(self) -> bool:
        return self.status in DISPUTE_CLOSED_STATUSES


def event_object(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The object an event is about (`data.object`), None when it carries none."""
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else None


def object_id_from_payload(data: dict[str, Any]) -> str:
    """The id of any Stripe object in a payload ("" when it has none)."""
    return id_of(data)


def card_from_payload(data: dict[str, Any]) -> Card | None:
    """A payment_method object as our Card; None for other kinds of payment method."""
    if data.get("type") not in (None, "card") or not data.get("id"):
        return None
    return card_of(data)


def charge_from_payload(data: dict[str, Any]) -> Charge:
    """A charge object; its refund list counts a refund with no status as succeeded."""
    refunds = [
        Refund(
            id=str(item.get("id", "")),
            status=str(item.get("status") or "succeeded"),
            amount=int(item.get("amount") or 0),
            currency=str(item.get("currency") or "").upper(),
        )
        for item in ((data.get("refunds") or {}).get("data") or [])
        if item.get("id")
    ]
    return Charge(
        payment_intent_id=id_of(data.get("payment_intent")),
        amount_refunded=int(data.get("amount_refunded") or 0),
        refunds=refunds,
    )


def dispute_from_payload(data: dict[str, Any]) -> Dispute:
    """A dispute object (charge.dispute.* events): its id, what it is about, its status."""
    created = data.get("created")
    return Dispute(
        payment_intent_id=id_of(data.get("payment_intent")),
        reason=str(data.get("reason") or "no reason given"),
        id=str(data.get("id") or ""),
        charge_id=id_of(data.get("charge")),
        status=str(data.get("status") or ""),
        created=dt.datetime.fromtimestamp(int(created), tz=dt.UTC) if created else None,
    )


def event_created(payload: dict[str, Any]) -> dt.datetime | None:
    """When Stripe created an event (`created`, seconds since the epoch)."""
    created = payload.get("created")
    return dt.datetime.fromtimestamp(int(created), tz=dt.UTC) if created else None
