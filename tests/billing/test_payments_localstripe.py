"""Cards and payments end to end against localstripe, through the official library.

The browser's part (Stripe.js confirming a SetupIntent) is done here with the same
HTTP call localstripe's Stripe.js stand-in makes; tests/browser does it in Chromium.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing import gateway
from billing.models import InvoiceStatus, PaymentMethod, PaymentStatus, ServiceStatus
from billing.services.cards import card_setup_begin, card_setup_complete
from billing.services.customers import stripe_customer_ensure
from billing.services.payments import invoice_pay
from core.exceptions import ApplicationError
from tests.helpers import (
    DECLINED,
    NEEDS_3DS,
    VISA,
    confirm_setup_in_browser,
    post_json,
    save_card,
    stripe_client,
)


def test_it_creates_the_stripe_customer_once(localstripe, alice):
    first = stripe_customer_ensure(user=alice)
    assert stripe_customer_ensure(user=alice) == first
    customer = stripe_client(localstripe).v1.customers.retrieve(first)
    assert customer.email == alice.email


def test_it_saves_only_the_cards_metadata_and_attaches_it(localstripe, alice):
    card = save_card(localstripe, alice)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2034)
    assert card.is_default is True
    assert card.fingerprint
    assert card.three_d_secure_supported is True
    pm = stripe_client(localstripe).v1.payment_methods.retrieve(card.stripe_payment_method_id)
    assert pm.customer == alice.billing_account.stripe_customer_id
    stored = {f.name for f in PaymentMethod._meta.fields}
    assert not stored & {"number", "cvc", "card_number"}


def test_it_refuses_a_setup_intent_of_another_customer(localstripe, alice, bob):
    intent = card_setup_begin(user=alice)
    setup_intent_id = confirm_setup_in_browser(localstripe, intent.client_secret, VISA)
    stripe_customer_ensure(user=bob)
    with pytest.raises(ApplicationError, match="does not belong"):
        card_setup_complete(user=bob, setup_intent_id=setup_intent_id)
    assert not PaymentMethod.objects.exists()


def test_it_pays_an_invoice_and_activates_the_service(localstripe, alice, alice_invoice):
    card = save_card(localstripe, alice)
    outcome = invoice_pay(invoice=alice_invoice, payment_method=card)
    assert outcome.payment.status == PaymentStatus.SUCCEEDED
    assert outcome.client_secret == ""
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert alice_invoice.order.services.get().status == ServiceStatus.ACTIVE
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(
        outcome.payment.stripe_payment_intent_id
    )
    assert (intent.amount, intent.currency) == (alice_invoice.total, "eur")
    with pytest.raises(ApplicationError, match="nothing left to pay"):
        invoice_pay(invoice=alice_invoice, payment_method=card)


def test_a_decline_is_told_in_plain_words(localstripe, alice, alice_invoice):
    card = save_card(localstripe, alice, DECLINED)
    with pytest.raises(ApplicationError) as declined:
        invoice_pay(invoice=alice_invoice, payment_method=card)
    assert declined.value.message == "Your card was declined by your bank."
    payment = alice_invoice.payments.get()
    assert payment.status == PaymentStatus.FAILED
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.UNPAID


def test_authentication_is_completed_in_the_page(localstripe, alice_client, alice, alice_invoice):
    card = save_card(localstripe, alice, NEEDS_3DS)
    response = alice_client.post(
        reverse("billing:invoice_pay", args=[alice_invoice.pk]), {"payment_method": card.pk}
    )
    assert response.status_code == 200
    secret = response.context["action_client_secret"]
    assert secret.startswith("pi_")
    assert "payment-action" in response.content.decode()
    payment = alice_invoice.payments.get()
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    # What confirmCardPayment does when the customer completes authentication.
    post_json(
        f"{localstripe}/v1/payment_intents/{payment.stripe_payment_intent_id}/_authenticate?success=true",
        {"key": "pk_test_localstripe", "client_secret": secret},
    )
    back = alice_client.post(
        reverse("billing:invoice_payment_return", args=[alice_invoice.pk]),
        {"payment_intent": payment.stripe_payment_intent_id},
    )
    assert back.status_code == 302
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID


def test_it_sets_the_default_card_here_and_at_stripe(localstripe, alice_client, alice):
    first = save_card(localstripe, alice)
    second = save_card(localstripe, alice)
    assert second.is_default is False
    alice_client.post(reverse("billing:card_default", args=[second.pk]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    customer = stripe_client(localstripe).v1.customers.retrieve(
        alice.billing_account.stripe_customer_id
    )
    assert customer.invoice_settings.default_payment_method == second.stripe_payment_method_id


def test_it_detaches_a_removed_card_at_stripe(localstripe, alice_client, alice):
    card = save_card(localstripe, alice)
    other = save_card(localstripe, alice)
    alice_client.post(reverse("billing:card_remove", args=[card.pk]))
    assert not PaymentMethod.objects.filter(pk=card.pk).exists()
    other.refresh_from_db()
    assert other.is_default is True
    pm = stripe_client(localstripe).v1.payment_methods.retrieve(card.stripe_payment_method_id)
    assert pm.customer is None


def test_another_customer_gets_404_on_cards(localstripe, client, alice, bob):
    card = save_card(localstripe, alice)
    client.force_login(bob)
    assert client.post(reverse("billing:card_default", args=[card.pk])).status_code == 404
    assert client.post(reverse("billing:card_remove", args=[card.pk])).status_code == 404
    assert "4242" not in client.get(reverse("billing:payment_methods")).content.decode()
    assert PaymentMethod.objects.filter(pk=card.pk).exists()


def test_bob_cannot_pay_alices_invoice_with_his_card(localstripe, client, alice_invoice, bob):
    card = save_card(localstripe, bob)
    client.force_login(bob)
    response = client.post(
        reverse("billing:invoice_pay", args=[alice_invoice.pk]), {"payment_method": card.pk}
    )
    assert response.status_code == 404
    with pytest.raises(ApplicationError):
        invoice_pay(invoice=alice_invoice, payment_method=card)


def test_a_refund_in_admin_issues_a_credit_note(localstripe, client, charlie, alice, alice_invoice):
    card = save_card(localstripe, alice)
    invoice_pay(invoice=alice_invoice, payment_method=card)
    client.force_login(charlie)
    response = client.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": "refund_in_full", "_selected_action": [alice_invoice.pk]},
        follow=True,
    )
    assert "credit note CN-" in response.content.decode()
    alice_invoice.refresh_from_db()
    note = alice_invoice.credit_notes.get()
    assert alice_invoice.status == InvoiceStatus.REFUNDED
    assert note.amount == alice_invoice.total
    assert note.stripe_refund_id.startswith("re_")
    refund = stripe_client(localstripe).v1.refunds.retrieve(note.stripe_refund_id)
    assert refund.amount == alice_invoice.total


def test_the_add_card_page_loads_stripe_js_from_the_setting(localstripe, alice_client):
    response = alice_client.get(reverse("billing:card_add"))
    body = response.content.decode()
    assert f'<script src="{localstripe}/js.stripe.com/v3/"></script>' in body
    assert 'data-intent-url="/billing/cards/add/intent/"' in body
    assert localstripe in response["Content-Security-Policy"]


def test_it_says_stripe_is_not_configured(alice_client, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = alice_client.get(reverse("billing:card_add"), follow=True)
    assert "Stripe is not configured" in response.content.decode()
    with pytest.raises(gateway.PaymentError, match="not configured"):
        gateway.customer_create(email="a@example.com", name="A", user_id=1, idempotency_key="k")


def test_the_card_field_is_named_for_assistive_technology(localstripe, alice_client):
    body = alice_client.get(reverse("billing:card_add")).content.decode()
    # A label's "for" must point at a form control; Stripe's field is a div holding a frame.
    assert 'for="card-element"' not in body
    assert 'id="card-element" role="group" aria-labelledby="card-label"' in body
    assert '<label id="card-label">Card</label>' in body
