"""Every call to Stripe goes through this module; nothing else imports stripe.

It returns our own dataclasses and raises PaymentError with words a customer can
read, so the rest of billing (and its tests) never touch SDK objects. Every call
goes through `_call`, the one place a StripeError becomes a PaymentError. Webhook
payloads are read here too (`*_from_payload`), into the same dataclasses.
STRIPE_API_BASE points the client at another server (localstripe in development
and tests); tests may also pass their own stripe.HTTPClient through
`use_http_client` to answer with objects shaped as in Stripe's API reference.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import stripe
from django.conf import settings
from stripe.params import PaymentIntentCreateParams, SetupIntentCreateParams

from core.exceptions import ApplicationError

_http_client: stripe.HTTPClient | None = None


class PaymentError(ApplicationError):
    """A Stripe call failed; `message` is safe to show to the customer.

    It is an ApplicationError, so a page shows it like any other broken rule.
    `permanent` says whether asking again can help: a declined card, a request
    Stripe refuses or a missing configuration stay as they are (permanent); a
    timeout, a lost connection, a rate limit or an error on Stripe's side may
    pass (transient), so tasks retry those only.
    """

    def __init__(
        self, message: str, *, permanent: bool, code: str = "", decline_code: str = ""
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.decline_code = decline_code

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery pickles a task's error; keyword-only arguments need spelling out.
        rebuild = partial(
            PaymentError, permanent=self.permanent, code=self.code, decline_code=self.decline_code
        )
        return (rebuild, (self.message,))


class WebhookSignatureError(Exception):
    """The payload was not signed with our webhook secret, was altered, or its timestamp
    is outside the tolerance (too old, or too far in the future)."""


class WebhookPayloadError(Exception):
    """A signed payload we cannot store: not strict JSON, or text PostgreSQL refuses."""


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


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def use_http_client(client: stripe.HTTPClient | None) -> None:
    """Tests: send every request through `client` (None goes back to the network)."""
    global _http_client
    _http_client = client


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise PaymentError(
            "Card payments are not available: Stripe is not configured.", permanent=True
        )
    options: dict[str, Any] = {"max_network_retries": 2}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    if _http_client is not None:
        options["http_client"] = _http_client
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **options)


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _call[T](request: Callable[[stripe.StripeClient], T]) -> T:
    """Runs one request against Stripe; a StripeError comes out as our PaymentError."""
    client = _client()
    try:
        return request(client)
    except stripe.StripeError as exc:
        raise _error(exc) from exc


def _is_transient(exc: stripe.StripeError) -> bool:
    """Timeouts and lost connections, rate limits (429, also Stripe's lock timeouts)
    and errors on Stripe's side (5xx): the same request may succeed later."""
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        return True
    return (exc.http_status or 0) >= 500


def _error(exc: stripe.StripeError) -> PaymentError:
    if isinstance(exc, stripe.CardError):
        code = exc.code or ""
        decline = getattr(exc, "error", None)
        decline_code = (getattr(decline, "decline_code", None) or "") if decline else ""
        message = (
            DECLINE_MESSAGES.get(decline_code)
            or DECLINE_MESSAGES.get(code)
            or exc.user_message
            or "Your card was declined."
        )
        return PaymentError(message, permanent=True, code=code, decline_code=decline_code)
    if isinstance(exc, stripe.APIConnectionError):
        return PaymentError(
            "We could not reach our payment provider. Please try again shortly.", permanent=False
        )
    if isinstance(exc, stripe.AuthenticationError):
        return PaymentError(
            "Card payments are not available: Stripe rejected our API key.", permanent=True
        )
    return PaymentError(
        "Our payment provider could not complete this request. Please try again.",
        permanent=not _is_transient(exc),
        code=getattr(exc, "code", "") or "",
    )


def _is_missing(exc: stripe.StripeError) -> bool:
    return isinstance(exc, stripe.InvalidRequestError) and (
        getattr(exc, "code", "") == "resource_missing" or getattr(exc, "http_status", 0) == 404
    )


def _id_of(value: Any) -> str:
    """An expandable field: Stripe sends either the id or the whole object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _card(pm: dict[str, Any]) -> Card:
    card = pm.get("card") or {}
    usage = card.get("three_d_secure_usage") or {}
    return Card(
        payment_method_id=pm["id"],
        customer_id=_id_of(pm.get("customer")),
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
        charge_id=_id_of(pi.get("latest_charge")),
        failure_message=failure,
        metadata={str(k): str(v) for k, v in (pi.get("metadata") or {}).items()},
        customer_id=_id_of(pi.get("customer")),
        risk_level=str(outcome.get("risk_level") or ""),
        risk_score=int(risk_score) if isinstance(risk_score, int) else None,
    )


def customer_create(*, email: str, name: str, user_id: int, idempotency_key: str) -> str:
    """A new Stripe customer; the idempotency key makes a retried call return the same one."""
    customer = _call(
        lambda client: client.v1.customers.create(
            params={"email": email, "name": name, "metadata": {"user_id": str(user_id)}},
            options={"idempotency_key": idempotency_key},
        )
    )
    return customer.id


def customer_delete(*, customer_id: str) -> None:
    """Deletes the Stripe customer, which detaches every card it had. Idempotent."""

    def delete(client: stripe.StripeClient) -> None:
        try:
            client.v1.customers.delete(customer_id)
        except stripe.InvalidRequestError as exc:
            if not _is_missing(exc):
                raise

    _call(delete)


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


def customer_retrieve(*, customer_id: str) -> StripeCustomer | None:
    """The Stripe customer and its cards; None when Stripe no longer has it."""

    def fetch(client: stripe.StripeClient) -> StripeCustomer | None:
        try:
            customer = _plain(client.v1.customers.retrieve(customer_id))
        except stripe.InvalidRequestError as exc:
            if _is_missing(exc):
                return None
            raise
        if customer.get("deleted"):
            return None
        methods = client.v1.payment_methods.list(params={"customer": customer_id, "type": "card"})
        return StripeCustomer(
            id=str(customer.get("id") or customer_id),
            email=str(customer.get("email") or ""),
            name=str(customer.get("name") or ""),
            phone=str(customer.get("phone") or ""),
            address={str(k): str(v or "") for k, v in (customer.get("address") or {}).items()},
            created=int(customer.get("created") or 0),
            metadata={str(k): str(v) for k, v in (customer.get("metadata") or {}).items()},
            cards=[_card(_plain(pm)) for pm in methods.data],
        )

    return _call(fetch)


def customer_set_default_payment_method(*, customer_id: str, payment_method_id: str) -> None:
    _call(
        lambda client: client.v1.customers.update(
            customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
        )
    )


def customer_default_payment_method(*, customer_id: str) -> str:
    """The payment method Stripe has as the customer's default now ("" when none)."""
    customer = _plain(_call(lambda client: client.v1.customers.retrieve(customer_id)))
    return _id_of((customer.get("invoice_settings") or {}).get("default_payment_method"))


def setup_intent_create(*, customer_id: str) -> SetupIntent:
    # payment_method_types: cards only. Stripe's API takes it; the SDK's typed params
    # no longer list it (Stripe steers to dashboard-configured methods).
    params: SetupIntentCreateParams = {  # type: ignore[typeddict-unknown-key]
        "customer": customer_id,
        "usage": "off_session",
        "payment_method_types": ["card"],
    }
    intent = _call(lambda client: client.v1.setup_intents.create(params=params))
    return setup_intent_from_payload(_plain(intent))


def setup_intent_retrieve(*, setup_intent_id: str) -> SetupIntent:
    intent = _call(lambda client: client.v1.setup_intents.retrieve(setup_intent_id))
    return setup_intent_from_payload(_plain(intent))


def setup_intent_from_payload(data: dict[str, Any]) -> SetupIntent:
    """A setup_intent object (from a response or a webhook event) as our SetupIntent."""
    return SetupIntent(
        id=str(data.get("id") or ""),
        client_secret=data.get("client_secret") or "",
        status=data.get("status", ""),
        payment_method_id=_id_of(data.get("payment_method")),
        customer_id=_id_of(data.get("customer")),
    )


def payment_method_retrieve(*, payment_method_id: str) -> Card:
    pm = _call(lambda client: client.v1.payment_methods.retrieve(payment_method_id))
    return _card(_plain(pm))


def payment_method_attach(*, payment_method_id: str, customer_id: str) -> Card:
    pm = _call(
        lambda client: client.v1.payment_methods.attach(
            payment_method_id, params={"customer": customer_id}
        )
    )
    return _card(_plain(pm))


def payment_method_detach(*, payment_method_id: str) -> None:
    def detach(client: stripe.StripeClient) -> None:
        try:
            client.v1.payment_methods.detach(payment_method_id)
        except stripe.InvalidRequestError as exc:
            # Already detached (or deleted) at Stripe: the outcome we wanted.
            if getattr(exc, "code", "") != "resource_missing" and (
                "not attached" not in str(exc).lower()
            ):
                raise

    _call(detach)


def payment_intent_create(
    *,
    amount: int,
    currency: str,
    customer_id: str,
    payment_method_id: str,
    idempotency_key: str,
    off_session: bool,
    metadata: dict[str, str],
) -> PaymentIntent:
    """Creates and confirms a PaymentIntent in one call.

    A decline comes back as a PaymentIntent with a failure message, not as an
    exception, so the caller records the attempt either way.
    """
    params: PaymentIntentCreateParams = {  # type: ignore[typeddict-unknown-key] # as above
        "amount": amount,
        "currency": currency.lower(),
        "customer": customer_id,
        "payment_method": payment_method_id,
        "confirm": True,
        "metadata": metadata,
        "payment_method_types": ["card"],
        # The charge with Radar's outcome (risk level and score) in the same answer.
        "expand": ["latest_charge"],
    }
    if off_session:
        params["off_session"] = True

    def create(client: stripe.StripeClient) -> PaymentIntent:
        try:
            intent = client.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as exc:
            body = exc.json_body if isinstance(exc.json_body, dict) else {}
            intent_data = (body.get("error") or {}).get("payment_intent")
            if not intent_data:
                raise
            declined = payment_intent_from_payload(intent_data)
            if declined.failure_message:
                return declined
            return replace(declined, failure_message=_error(exc).message)
        return payment_intent_from_payload(_plain(intent))

    return _call(create)


def payment_intent_retrieve(*, payment_intent_id: str) -> PaymentIntent:
    intent = _call(lambda client: client.v1.payment_intents.retrieve(payment_intent_id))
    return payment_intent_from_payload(_plain(intent))


def payment_intent_cancel(*, payment_intent_id: str) -> PaymentIntent:
    """Cancels an intent still waiting for the customer; PaymentError when it can no
    longer be cancelled (it succeeded or is processing meanwhile)."""
    intent = _call(lambda client: client.v1.payment_intents.cancel(payment_intent_id))
    return payment_intent_from_payload(_plain(intent))


def refund_create(*, payment_intent_id: str, amount: int, idempotency_key: str) -> Refund:
    refund = _call(
        lambda client: client.v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount},
            options={"idempotency_key": idempotency_key},
        )
    )
    return _refund(_plain(refund))


def refund_list(*, payment_intent_id: str) -> list[Refund]:
    """Every refund of a PaymentIntent (charge objects no longer embed their refunds)."""

    def list_all(client: stripe.StripeClient) -> list[dict[str, Any]]:
        page = client.v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100})
        return [_plain(refund) for refund in page.auto_paging_iter()]

    return [_refund(item) for item in _call(list_all)]


def _refund(data: dict[str, Any]) -> Refund:
    return Refund(
        id=data["id"],
        status=data.get("status", ""),
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").upper(),
    )


def webhook_event(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The verified event as a plain dict, or WebhookSignatureError."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookSignatureError("Stripe webhooks are not configured.")
    tolerance = stripe.Webhook.DEFAULT_TOLERANCE
    try:
        stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookSignatureError(str(exc)) from exc
    # The library only refuses old timestamps; one far ahead is refused as well, so a
    # signature cannot be made to stay valid for longer than the tolerance.
    if _signed_at(signature) > time.time() + tolerance:
        raise WebhookSignatureError("Timestamp is in the future, beyond the tolerance.")
    try:
        event = json.loads(payload, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise WebhookPayloadError(f"The payload is not JSON: {exc}") from exc
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise WebhookSignatureError("The payload is not a Stripe event.")
    problem = _unstorable(event, "event")
    if problem:
        raise WebhookPayloadError(problem)
    for field, limit in (("id", 255), ("type", 100)):
        value = event[field]
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise WebhookPayloadError(f"The event {field} must be text of 1 to {limit} characters.")
    return event


def _signed_at(signature: str) -> int:
    """The t= timestamp of a Stripe-Signature header (verified already)."""
    for item in signature.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _unstorable(value: object, where: str) -> str:
    """Why PostgreSQL's jsonb would refuse `value` (a NUL, a lone surrogate), or ''."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"A NUL character in {where}."
        if any("\ud800" <= char <= "\udfff" for char in value):
            return f"A lone surrogate in {where}."
        return ""
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unstorable(key, f"a key of {where}") or _unstorable(item, f"{where}.{key}")
            if problem:
                return problem[:300]
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _unstorable(item, f"{where}[{index}]")
            if problem:
                return problem
    return ""


# --- webhook payloads ------------------------------------------------------
# A stored event is applied later by a worker; these read its object into our
# dataclasses. An object missing what a handler needs reads as None.


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str
    amount_refunded: int
    refunds: list[Refund]  # as listed in the payload, which may be incomplete


@dataclass(frozen=True)
class Dispute:
    payment_intent_id: str
    reason: str


def event_object(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The object an event is about (`data.object`), None when it carries none."""
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else None


def object_id_from_payload(data: dict[str, Any]) -> str:
    """The id of any Stripe object in a payload ("" when it has none)."""
    return _id_of(data)


def card_from_payload(data: dict[str, Any]) -> Card | None:
    """A payment_method object as our Card; None for other kinds of payment method."""
    if data.get("type") not in (None, "card") or not data.get("id"):
        return None
    return _card(data)


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
        payment_intent_id=_id_of(data.get("payment_intent")),
        amount_refunded=int(data.get("amount_refunded") or 0),
        refunds=refunds,
    )


def dispute_from_payload(data: dict[str, Any]) -> Dispute:
    return Dispute(
        payment_intent_id=_id_of(data.get("payment_intent")),
        reason=str(data.get("reason") or "no reason given"),
    )
