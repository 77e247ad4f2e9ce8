"""Stripe webhooks about cards: attached, updated and detached payment methods, the
customer's default card, setup intents, and late events that must not undo what the
customer did since.

Payloads are shaped as in Stripe's API reference and signed as Stripe signs them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import (
    PaymentMethod,
)
from tests.factories import BillingAccountFactory, PaymentMethodFactory
from tests.helpers import deliver, event
from tests.stripe_fixtures import WEBHOOK_SECRET

URL = reverse("billing:stripe_webhook")


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def card_payload(pm_id: str, customer: str | None, *, supported: bool = True, exp_year: int = 2034):
    return {
        "id": pm_id,
        "object": "payment_method",
        "type": "card",
        "customer": customer,
        "card": {
            "brand": "mastercard",
            "last4": "4444",
            "exp_month": 8,
            "exp_year": exp_year,
            "country": "DE",
            "fingerprint": "Xt5EWLLDS7FJjR1c",
            "three_d_secure_usage": {"supported": supported},
        },
    }


@pytest.fixture
def alice_customer(alice) -> str:
    BillingAccountFactory(user=alice, stripe_customer_id="cus_Alice1")
    return "cus_Alice1"


def test_an_attached_card_without_3d_secure_is_saved_with_that_fact(
    client, alice, alice_customer, fake_stripe, django_capture_on_commit_callbacks
):
    payload = card_payload("pm_No3DS", alice_customer, supported=False)
    fake_stripe({("GET", "/v1/payment_methods/pm_No3DS"): lambda params: (200, payload)})
    deliver(
        client,
        event("payment_method.attached", card_payload("pm_No3DS", alice_customer, supported=False)),
        django_capture_on_commit_callbacks,
    )
    card = PaymentMethod.objects.get(user=alice)
    assert (card.brand, card.last4, card.country) == ("mastercard", "4444", "DE")
    assert card.three_d_secure_supported is False


def test_an_updated_card_gets_its_new_expiry_and_a_detached_one_goes(
    client, alice, alice_customer, django_capture_on_commit_callbacks
):
    PaymentMethodFactory(user=alice, stripe_payment_method_id="pm_Old", exp_year=2027)
    deliver(
        client,
        event("payment_method.updated", card_payload("pm_Old", alice_customer, exp_year=2031)),
        django_capture_on_commit_callbacks,
    )
    assert PaymentMethod.objects.get(stripe_payment_method_id="pm_Old").exp_year == 2031
    deliver(
        client,
        event("payment_method.detached", {**card_payload("pm_Old", None), "customer": None}),
        django_capture_on_commit_callbacks,
    )
    assert not PaymentMethod.objects.exists()


def test_an_update_for_a_card_we_do_not_know_adds_nothing(
    client, alice_customer, django_capture_on_commit_callbacks
):
    deliver(
        client,
        event("payment_method.updated", card_payload("pm_Unknown", alice_customer)),
        django_capture_on_commit_callbacks,
    )
    assert not PaymentMethod.objects.exists()


def _stripe_customer(customer_id: str, default: str) -> dict[str, object]:
    return {
        "id": customer_id,
        "object": "customer",
        "invoice_settings": {"default_payment_method": default},
    }


def test_customer_updated_moves_the_default_card(
    client, alice, alice_customer, fake_stripe, django_capture_on_commit_callbacks
):
    first = PaymentMethodFactory(user=alice, is_default=True)
    second = PaymentMethodFactory(user=alice, is_default=False)
    current = _stripe_customer(alice_customer, second.stripe_payment_method_id)
    fake_stripe({("GET", f"/v1/customers/{alice_customer}"): lambda params: (200, current)})
    deliver(
        client,
        event(
            "customer.updated",
            {
                "id": alice_customer,
                "object": "customer",
                "invoice_settings": {"default_payment_method": second.stripe_payment_method_id},
            },
        ),
        django_capture_on_commit_callbacks,
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)


def test_setup_intent_succeeded_saves_the_card_through_the_gateway(
    client, alice, alice_customer, fake_stripe, django_capture_on_commit_callbacks
):
    http = fake_stripe(
        {
            ("GET", "/v1/payment_methods/pm_FromSetup"): lambda params: (
                200,
                card_payload("pm_FromSetup", alice_customer),
            )
        }
    )
    deliver(
        client,
        event(
            "setup_intent.succeeded",
            {
                "id": "seti_1",
                "object": "setup_intent",
                "status": "succeeded",
                "customer": alice_customer,
                "payment_method": "pm_FromSetup",
            },
        ),
        django_capture_on_commit_callbacks,
    )
    assert PaymentMethod.objects.get(user=alice).stripe_payment_method_id == "pm_FromSetup"
    assert [r[1] for r in http.requests] == ["/v1/payment_methods/pm_FromSetup"]


@pytest.mark.parametrize("type_", ["payment_method.attached", "setup_intent.succeeded"])
def test_a_late_event_does_not_bring_back_a_card_the_customer_removed(
    client, alice, alice_customer, fake_stripe, django_capture_on_commit_callbacks, type_
):
    detached = {**card_payload("pm_Removed", alice_customer), "customer": None}
    http = fake_stripe({("GET", "/v1/payment_methods/pm_Removed"): lambda params: (200, detached)})
    obj = (
        card_payload("pm_Removed", alice_customer)
        if type_ == "payment_method.attached"
        else {
            "id": "seti_Old",
            "object": "setup_intent",
            "status": "succeeded",
            "customer": alice_customer,
            "payment_method": "pm_Removed",
        }
    )

    deliver(client, event(type_, obj), django_capture_on_commit_callbacks)

    assert not PaymentMethod.objects.exists()
    assert [(method, path) for method, path, _, _ in http.requests] == [
        ("GET", "/v1/payment_methods/pm_Removed")
    ]


def test_a_late_customer_updated_does_not_move_the_default_back(
    client, alice, alice_customer, fake_stripe, django_capture_on_commit_callbacks
):
    old = PaymentMethodFactory(user=alice, is_default=False)
    new = PaymentMethodFactory(user=alice, is_default=True)
    stripe_default = {"now": new.stripe_payment_method_id}
    http = fake_stripe(
        {
            ("GET", f"/v1/customers/{alice_customer}"): lambda params: (
                200,
                _stripe_customer(alice_customer, stripe_default["now"]),
            )
        }
    )

    deliver(
        client,
        event(
            "customer.updated",
            _stripe_customer(alice_customer, old.stripe_payment_method_id),
            "evt_old_customer_update",
        ),
        django_capture_on_commit_callbacks,
    )

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_default, new.is_default) == (False, True)
    # The handler asked Stripe for the default it has now instead of trusting the event...
    assert [(method, path) for method, path, _, _ in http.requests] == [
        ("GET", f"/v1/customers/{alice_customer}")
    ]
    # ... and follows it when it does differ (positive control).
    stripe_default["now"] = old.stripe_payment_method_id
    deliver(
        client,
        event(
            "customer.updated",
            _stripe_customer(alice_customer, old.stripe_payment_method_id),
            "evt_customer_update_to_old",
        ),
        django_capture_on_commit_callbacks,
    )
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_default, new.is_default) == (True, False)
