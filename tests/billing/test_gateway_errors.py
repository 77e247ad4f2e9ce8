"""Vendor errors: every Stripe failure comes out of the gateway as our PaymentError (an
ApplicationError) saying whether asking again can help, and tasks retry only then."""

from __future__ import annotations

import pytest
import stripe

from billing import gateway, tasks
from billing.models import BillingAccount, PaymentMethod, StripeEvent
from config.celery import app
from core.exceptions import ApplicationError

CARD: dict[str, object] = {
    "id": "pm_Retry",
    "object": "payment_method",
    "type": "card",
    "customer": "cus_Retry",
    "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
}


def stripe_error(status: int, type_: str, **extra: str) -> tuple[int, dict[str, object]]:
    return status, {"error": {"type": type_, "message": "from Stripe", **extra}}


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [
        (stripe_error(402, "card_error", code="card_declined"), True),
        (stripe_error(400, "invalid_request_error"), True),
        (stripe_error(404, "invalid_request_error", code="resource_missing"), True),
        (stripe_error(401, "invalid_request_error"), True),
        (stripe_error(429, "invalid_request_error", code="rate_limit"), False),
        (stripe_error(500, "api_error"), False),
        (stripe_error(503, "api_error"), False),
    ],
)
def test_it_says_whether_a_failed_call_may_pass(fake_stripe, answer, permanent):
    fake_stripe({("GET", "/v1/payment_methods/pm_Retry"): lambda params: answer})
    with pytest.raises(gateway.PaymentError) as raised:
        gateway.payment_method_retrieve(payment_method_id="pm_Retry")
    assert raised.value.permanent is permanent
    assert isinstance(raised.value, ApplicationError)


def test_a_lost_connection_is_transient(fake_stripe):
    def timeout(params: dict[str, object]) -> tuple[int, dict[str, object]]:
        raise stripe.APIConnectionError("Request timed out", should_retry=False)

    fake_stripe({("GET", "/v1/payment_methods/pm_Retry"): timeout})
    with pytest.raises(gateway.PaymentError, match="could not reach") as raised:
        gateway.payment_method_retrieve(payment_method_id="pm_Retry")
    assert raised.value.permanent is False


def test_stripe_not_configured_is_permanent(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(gateway.PaymentError, match="not configured") as raised:
        gateway.payment_method_retrieve(payment_method_id="pm_Retry")
    assert raised.value.permanent is True


@pytest.fixture
def eager_retries():
    """Eager tasks run their retries in turn (the retry itself is not raised), and the
    result raises the final error, as a worker would record it."""
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def card_event(alice, eager_retries) -> StripeEvent:
    BillingAccount.objects.create(user=alice, stripe_customer_id="cus_Retry")
    return StripeEvent.objects.create(
        event_id="evt_retry",
        type="payment_method.attached",
        payload={"data": {"object": CARD}},
    )


def failing(times: int, answer: tuple[int, dict[str, object]]):
    """A route that gives `answer` `times` times, then the card."""
    calls = {"n": 0}

    def route(params: dict[str, object]) -> tuple[int, dict[str, object]]:
        calls["n"] += 1
        return answer if calls["n"] <= times else (200, CARD)

    return route, calls


def test_the_event_task_retries_while_stripe_is_failing(fake_stripe, card_event):
    # More failures than one attempt's network retries: only a task retry gets through.
    route, calls = failing(5, stripe_error(503, "api_error"))
    fake_stripe({("GET", "/v1/payment_methods/pm_Retry"): route})
    assert tasks.process_stripe_event.delay(card_event.pk).get() is True
    assert calls["n"] == 6
    assert PaymentMethod.objects.filter(stripe_payment_method_id="pm_Retry").exists()
    card_event.refresh_from_db()
    assert card_event.processed_at is not None


def test_the_event_task_does_not_retry_a_permanent_error(fake_stripe, card_event):
    route, calls = failing(5, stripe_error(400, "invalid_request_error"))
    fake_stripe({("GET", "/v1/payment_methods/pm_Retry"): route})
    with pytest.raises(gateway.PaymentError) as raised:
        tasks.process_stripe_event.delay(card_event.pk).get()
    assert raised.value.permanent is True
    assert calls["n"] == 1
    card_event.refresh_from_db()
    assert card_event.processed_at is None


def test_deleting_a_customer_retries_transient_errors_only(db, fake_stripe, eager_retries):
    route, calls = failing(5, stripe_error(500, "api_error"))
    fake_stripe({("DELETE", "/v1/customers/cus_Gone"): route})
    tasks.delete_stripe_customer.delay("cus_Gone").get()
    assert calls["n"] == 6

    route, calls = failing(5, stripe_error(400, "invalid_request_error"))
    fake_stripe({("DELETE", "/v1/customers/cus_Gone"): route})
    with pytest.raises(gateway.PaymentError):
        tasks.delete_stripe_customer.delay("cus_Gone").get()
    assert calls["n"] == 1
