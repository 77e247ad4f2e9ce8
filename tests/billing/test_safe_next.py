"""`next` is followed only when it is a path on this site (core.redirects), everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from billing.models import BillingAccount
from billing.services.customers import billing_account_for

NOT_A_PATH = ["NaN", "plans", "-1", "https://attacker.example/", "//attacker.example/", ""]


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", NOT_A_PATH)
def test_the_currency_switch_ignores_a_next_that_is_not_a_path_here(client, next_url):
    response = client.post(reverse("billing:currency"), {"currency": "USD", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("billing:plans")


@pytest.mark.django_db
def test_the_currency_switch_follows_a_path_here(client):
    response = client.post(
        reverse("billing:currency"), {"currency": "USD", "next": "/billing/cart/"}
    )

    assert response["Location"] == "/billing/cart/"


@pytest.mark.parametrize("next_url", ["NaN", "https://attacker.example/"])
def test_the_add_card_page_does_not_carry_a_next_that_is_not_a_path(
    fake_stripe, alice_client, next_url
):
    fake_stripe({})

    response = alice_client.get(reverse("billing:card_add"), {"next": next_url})

    assert response.status_code == 200
    # The card form posts no next (the cookie banner's own next is this page's path).
    assert 'name="next" value=""' in response.text


def test_the_add_card_page_keeps_a_next_path(fake_stripe, alice_client):
    fake_stripe({})

    response = alice_client.get(reverse("billing:card_add"), {"next": "/billing/checkout/"})

    assert 'name="next" value="/billing/checkout/"' in response.text


def completed_setup_routes() -> dict[Any, Any]:
    card = {
        "id": "pm_Alice",
        "object": "payment_method",
        "type": "card",
        "customer": "cus_Alice",
        "card": {
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": 2034,
            "three_d_secure_usage": {"supported": True},
        },
    }
    return {
        ("GET", "/v1/setup_intents/seti_Alice"): lambda params: (
            200,
            {
                "id": "seti_Alice",
                "object": "setup_intent",
                "status": "succeeded",
                "customer": "cus_Alice",
                "payment_method": "pm_Alice",
            },
        ),
        ("GET", "/v1/payment_methods/pm_Alice"): lambda params: (200, card),
        ("POST", "/v1/customers/cus_Alice"): lambda params: (
            200,
            {"id": "cus_Alice", "object": "customer"},
        ),
    }


@pytest.mark.parametrize(
    ("next_url", "location"),
    [("NaN", "/billing/cards/"), ("/billing/checkout/", "/billing/checkout/")],
)
def test_completing_a_card_setup_follows_only_a_path_here(
    fake_stripe, alice, alice_client, next_url, location
):
    fake_stripe(completed_setup_routes())
    BillingAccount.objects.filter(pk=billing_account_for(user=alice).pk).update(
        stripe_customer_id="cus_Alice"
    )

    response = alice_client.post(
        reverse("billing:card_setup_complete"), {"setup_intent": "seti_Alice", "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == location
