"""Adding a card: the page is a plain GET with no side effect; the SetupIntent (and the
Stripe customer on first need) is made by a CSRF-protected POST from the page's script."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from billing.models import BillingAccount, PaymentMethod
from billing.services.customers import billing_account_for


def _customer_and_setup_routes():
    return {
        ("POST", "/v1/customers"): lambda params: (
            200,
            {"id": "cus_Alice", "object": "customer", "email": params.get("email")},
        ),
        ("POST", "/v1/setup_intents"): lambda params: (
            200,
            {
                "id": "seti_Alice",
                "object": "setup_intent",
                "status": "requires_payment_method",
                "customer": params.get("customer"),
                "client_secret": "seti_Alice_secret_abc",
            },
        ),
    }


def test_it_makes_no_stripe_object_when_the_add_card_page_is_loaded(fake_stripe, alice_client):
    http = fake_stripe(_customer_and_setup_routes())
    response = alice_client.get(reverse("billing:card_add"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-intent-url="{reverse("billing:card_setup_intent")}"' in body
    assert "seti_" not in body
    assert "needs JavaScript" in body
    assert http.requests == []
    assert not BillingAccount.objects.exclude(stripe_customer_id="").exists()


def test_it_makes_the_setup_intent_on_a_post_and_returns_its_secret(
    fake_stripe, alice, alice_client
):
    http = fake_stripe(_customer_and_setup_routes())
    response = alice_client.post(reverse("billing:card_setup_intent"))
    assert response.status_code == 200
    assert response.json() == {"client_secret": "seti_Alice_secret_abc"}
    assert [(method, path) for method, path, _, _ in http.requests] == [
        ("POST", "/v1/customers"),
        ("POST", "/v1/setup_intents"),
    ]
    assert http.requests[1][2]["customer"] == "cus_Alice"
    assert billing_account_for(user=alice).stripe_customer_id == "cus_Alice"


def test_it_refuses_a_setup_intent_post_without_the_csrf_token(fake_stripe, alice):
    http = fake_stripe(_customer_and_setup_routes())
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("billing:card_setup_intent"))
    assert response.status_code == 403
    assert http.requests == []


def test_it_refuses_a_get_of_the_setup_intent_endpoint(fake_stripe, alice_client):
    http = fake_stripe(_customer_and_setup_routes())
    assert alice_client.get(reverse("billing:card_setup_intent")).status_code == 405
    assert http.requests == []


def test_it_sends_a_visitor_to_sign_in_instead_of_making_a_setup_intent(fake_stripe, client):
    http = fake_stripe(_customer_and_setup_routes())
    response = client.post(reverse("billing:card_setup_intent"))
    assert response.status_code == 302
    assert http.requests == []


def test_it_answers_a_stripe_failure_with_its_reason_as_json(fake_stripe, alice_client):
    fake_stripe({})  # every Stripe route answers 404 resource_missing
    response = alice_client.post(reverse("billing:card_setup_intent"))
    assert response.status_code == 502
    assert response.json()["error"]


def test_bob_cannot_complete_alices_card_setup(fake_stripe, alice, bob, client):
    routes = _customer_and_setup_routes()
    routes[("GET", "/v1/setup_intents/seti_Alice")] = lambda params: (
        200,
        {
            "id": "seti_Alice",
            "object": "setup_intent",
            "status": "succeeded",
            "customer": "cus_Alice",
            "payment_method": "pm_Alice",
            "client_secret": "seti_Alice_secret_abc",
        },
    )
    http = fake_stripe(routes)
    BillingAccount.objects.filter(pk=billing_account_for(user=alice).pk).update(
        stripe_customer_id="cus_Alice"
    )
    BillingAccount.objects.filter(pk=billing_account_for(user=bob).pk).update(
        stripe_customer_id="cus_Bob"
    )
    client.force_login(bob)
    response = client.post(
        reverse("billing:card_setup_complete"), {"setup_intent": "seti_Alice"}, follow=True
    )
    assert "does not belong to your account" in response.content.decode()
    assert not PaymentMethod.objects.exists()
    assert ("GET", "/v1/payment_methods/pm_Alice") not in [(m, p) for m, p, _, _ in http.requests]
