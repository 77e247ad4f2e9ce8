"""Every call to Stripe goes through this module; nothing else imports stripe.

It returns our own dataclasses (billing.stripe_payloads, which also reads webhook
payloads into them) and raises PaymentError with words a customer can read, so the
rest of billing (and its tests) never touch SDK objects. Every call goes through
`_call`, the one place a StripeError becomes a PaymentError. Verifying a webhook's
signature and parsing its JSON strictly (`webhook_event`) is done here too.
STRIPE_API_BASE points the client at another server (localstripe in development
and tests); tests may also pass their own stripe.HTTPClient through
`use_http_client` to answer with objects shaped as in Stripe's API reference.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings

from core.exceptions import ApplicationError

from .stripe_payloads import (
    DECLINE_MESSAGES,
    Card,
    PaymentIntent,
    Refund,
    SetupIntent,
    StripeCustomer,
    card_of,
    id_of,
    payment_intent_from_payload,
    refund_of,
    setup_intent_from_payload,
)

if TYPE_CHECKING:
    # Annotations only: stripe.params builds its some 270 TypedDicts on first access,
    # 20-50 ms of every process start that imports billing (manage.py, workers).
    from stripe.params import PaymentIntentCreateParams, SetupIntentCreateParams

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
            cards=[card_of(_plain(pm)) for pm in methods.data],
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
    return id_of((customer.get("invoice_settings") or {}).get("default_payment_method"))


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


def payment_method_retrieve(*, payment_method_id: str) -> Card:
    pm = _call(lambda client: client.v1.payment_methods.retrieve(payment_method_id))
    return card_of(_plain(pm))


def payment_method_attach(*, payment_method_id: str, customer_id: str) -> Card:
    pm = _call(
        lambda client: client.v1.payment_methods.attach(
            payment_method_id, params={"customer": customer_id}
        )
    )
    return card_of(_plain(pm))


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
    return refund_of(_plain(refund))


def refund_list(*, payment_intent_id: str) -> list[Refund]:
    """Every refund of a PaymentIntent (charge objects no longer embed their refunds)."""

    def list_all(client: stripe.StripeClient) -> list[dict[str, Any]]:
        page = client.v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100})
        return [_plain(refund) for refund in page.auto_paging_iter()]

    return [refund_of(item) for item in _call(list_all)]


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
