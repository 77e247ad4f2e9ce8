"""The Stripe webhook: signatures, storing each event once, order-independent handling
of payment intents (cards are test_webhook_cards.py, refunds test_webhook_refunds.py).

Payloads are shaped as in Stripe's API reference and signed exactly as Stripe signs
them (stripe.WebhookSignature.generate_signature_header).
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from billing.models import (
    BillingAccount,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    ServiceStatus,
    StripeEvent,
)
from billing.services.invoices import invoice_mark_paid
from tests.helpers import deliver, event, payment_intent
from tests.stripe_fixtures import WEBHOOK_SECRET, signed

URL = reverse("billing:stripe_webhook")


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def test_it_refuses_an_unsigned_event(client, db):
    response = client.post(URL, "{}", content_type="application/json")
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_it_refuses_a_tampered_event(client, pending_payment):
    body, header = signed(event("payment_intent.succeeded", {"id": "pi_x"}))
    response = client.post(
        URL,
        body.replace("pi_x", "pi_y"),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    assert response.status_code == 400


def test_it_refuses_an_expired_signature(client, db, django_capture_on_commit_callbacks):
    response = deliver(
        client,
        event("customer.updated", {"id": "cus_1"}),
        django_capture_on_commit_callbacks,
        at=int(time.time()) - 600,
    )
    assert response.status_code == 400


def test_it_refuses_a_signature_made_with_another_secret(
    client, db, django_capture_on_commit_callbacks
):
    response = deliver(
        client,
        event("customer.updated", {"id": "cus_1"}),
        django_capture_on_commit_callbacks,
        secret="whsec_other",
    )
    assert response.status_code == 400


def test_it_refuses_everything_when_no_secret_is_set(client, db, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    body, header = signed(event("customer.updated", {"id": "cus_1"}))
    response = client.post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400


def test_it_refuses_a_get(client, db):
    assert client.get(URL).status_code == 405


def test_it_marks_the_invoice_paid_once_when_an_event_comes_three_times_and_out_of_order(
    client, pending_payment, django_capture_on_commit_callbacks, mailoutbox
):
    succeeded = event("payment_intent.succeeded", payment_intent(pending_payment, "succeeded"))
    failed = event(
        "payment_intent.payment_failed",
        payment_intent(
            pending_payment,
            "requires_payment_method",
            last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
        ),
    )
    action = event(
        "payment_intent.requires_action", payment_intent(pending_payment, "requires_action")
    )
    responses = [
        deliver(client, payload, django_capture_on_commit_callbacks)
        for payload in (succeeded, failed, succeeded, action, succeeded)
    ]
    assert [r.status_code for r in responses] == [200] * 5
    assert StripeEvent.objects.count() == 3
    assert StripeEvent.objects.filter(processed_at__isnull=True).count() == 0
    pending_payment.refresh_from_db()
    invoice = pending_payment.invoice
    invoice.refresh_from_db()
    assert pending_payment.status == PaymentStatus.SUCCEEDED
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.order.services.get().status == ServiceStatus.ACTIVE
    paid_mails = [m for m in mailoutbox if m.subject.startswith("Payment received")]
    assert len(paid_mails) == 1


def test_a_failure_before_success_still_ends_paid(
    client, pending_payment, django_capture_on_commit_callbacks
):
    failed = event(
        "payment_intent.payment_failed",
        payment_intent(
            pending_payment,
            "requires_payment_method",
            last_payment_error={"code": "card_declined", "decline_code": "insufficient_funds"},
        ),
    )
    deliver(client, failed, django_capture_on_commit_callbacks)
    pending_payment.refresh_from_db()
    assert pending_payment.status == PaymentStatus.FAILED
    assert pending_payment.failure_message == "Your card has insufficient funds."
    deliver(
        client,
        event("payment_intent.succeeded", payment_intent(pending_payment, "succeeded")),
        django_capture_on_commit_callbacks,
    )
    pending_payment.invoice.refresh_from_db()
    assert pending_payment.invoice.status == InvoiceStatus.PAID


def test_it_settles_an_intent_whose_id_we_had_not_recorded_yet(
    client, pending_payment, django_capture_on_commit_callbacks
):
    Payment.objects.filter(pk=pending_payment.pk).update(stripe_payment_intent_id="")
    deliver(
        client,
        event("payment_intent.succeeded", payment_intent(pending_payment, "succeeded")),
        django_capture_on_commit_callbacks,
    )
    pending_payment.refresh_from_db()
    assert pending_payment.stripe_payment_intent_id == "pi_3Test0001"
    assert pending_payment.status == PaymentStatus.SUCCEEDED


def test_it_ignores_intents_it_did_not_create(
    client, pending_payment, django_capture_on_commit_callbacks
):
    foreign = {**payment_intent(pending_payment, "succeeded"), "id": "pi_foreign", "metadata": {}}
    response = deliver(
        client, event("payment_intent.succeeded", foreign), django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    assert StripeEvent.objects.get().processed_at is not None
    status_before = pending_payment.status
    pending_payment.refresh_from_db()
    assert Payment.objects.get() == pending_payment  # no payment recorded for it
    assert pending_payment.status == status_before != PaymentStatus.SUCCEEDED
    assert pending_payment.invoice.status == InvoiceStatus.UNPAID
    # Positive control: the same event for the intent we created settles our payment.
    deliver(
        client,
        event("payment_intent.succeeded", payment_intent(pending_payment, "succeeded")),
        django_capture_on_commit_callbacks,
    )
    pending_payment.refresh_from_db()
    assert pending_payment.status == PaymentStatus.SUCCEEDED


def test_it_stores_and_acknowledges_unknown_event_types(
    client, db, django_capture_on_commit_callbacks
):
    response = deliver(
        client, event("balance.available", {"id": "bal_1"}), django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert StripeEvent.objects.get().type == "balance.available"


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"type": "x"}'])
def test_a_signed_payload_that_is_not_an_event_is_a_400(client, db, body):
    import stripe

    header = stripe.WebhookSignature.generate_signature_header(
        payload=body, secret=WEBHOOK_SECRET, timestamp=int(time.time())
    )
    response = client.post(URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_event_without_an_object_is_stored_and_ignored(
    client, db, django_capture_on_commit_callbacks
):
    payload = {"id": "evt_empty", "type": "payment_intent.succeeded", "data": {}}
    assert deliver(client, payload, django_capture_on_commit_callbacks).status_code == 200
    assert StripeEvent.objects.get().processed_at is not None


@pytest.mark.parametrize(
    "change",
    [{"amount": 1}, {"currency": "usd"}, {"customer": "cus_SomeoneElse"}],
    ids=["amount", "currency", "customer"],
)
def test_it_does_not_settle_an_invoice_with_an_intent_that_does_not_match_the_payment(
    client, pending_payment, django_capture_on_commit_callbacks, change
):
    BillingAccount.objects.filter(user=pending_payment.invoice.user).update(
        stripe_customer_id="cus_Ours"
    )
    intent = payment_intent(pending_payment, "succeeded", customer="cus_Ours")
    deliver(
        client,
        event("payment_intent.succeeded", {**intent, **change}),
        django_capture_on_commit_callbacks,
    )
    pending_payment.refresh_from_db()
    pending_payment.invoice.refresh_from_db()
    assert pending_payment.status == PaymentStatus.PROCESSING
    assert pending_payment.invoice.status == InvoiceStatus.UNPAID


def test_an_unrecorded_intent_of_another_amount_is_not_bound_by_its_metadata(
    client, pending_payment, django_capture_on_commit_callbacks
):
    Payment.objects.filter(pk=pending_payment.pk).update(stripe_payment_intent_id="")
    deliver(
        client,
        event(
            "payment_intent.succeeded",
            {**payment_intent(pending_payment, "succeeded"), "id": "pi_Staging", "amount": 99},
        ),
        django_capture_on_commit_callbacks,
    )
    pending_payment.refresh_from_db()
    assert pending_payment.stripe_payment_intent_id == ""
    assert pending_payment.status == PaymentStatus.PROCESSING


def test_the_matching_intent_of_our_customer_settles_the_invoice(
    client, pending_payment, django_capture_on_commit_callbacks
):
    BillingAccount.objects.filter(user=pending_payment.invoice.user).update(
        stripe_customer_id="cus_Ours"
    )
    deliver(
        client,
        event(
            "payment_intent.succeeded",
            payment_intent(pending_payment, "succeeded", customer="cus_Ours"),
        ),
        django_capture_on_commit_callbacks,
    )
    pending_payment.invoice.refresh_from_db()
    assert pending_payment.invoice.status == InvoiceStatus.PAID


def test_a_card_payment_of_an_invoice_already_paid_another_way_is_reported_for_refund(
    client, pending_payment, django_capture_on_commit_callbacks, caplog
):
    invoice_mark_paid(invoice=pending_payment.invoice)

    with caplog.at_level("ERROR", logger="billing"):
        deliver(
            client,
            event("payment_intent.succeeded", payment_intent(pending_payment, "succeeded")),
            django_capture_on_commit_callbacks,
        )

    pending_payment.refresh_from_db()
    assert pending_payment.status == PaymentStatus.SUCCEEDED
    number = pending_payment.invoice.number
    assert f"succeeded on invoice {number}, which is paid: refund it" in caplog.text


def test_a_payment_in_flight_when_its_customer_was_erased_still_settles(
    client, pending_payment, django_capture_on_commit_callbacks
):
    """Erasure forgets the Stripe customer id; the matching amount still settles."""
    BillingAccount.objects.filter(user=pending_payment.invoice.user).update(stripe_customer_id="")
    deliver(
        client,
        event(
            "payment_intent.succeeded",
            payment_intent(pending_payment, "succeeded", customer="cus_Forgotten"),
        ),
        django_capture_on_commit_callbacks,
    )
    pending_payment.invoice.refresh_from_db()
    assert pending_payment.invoice.status == InvoiceStatus.PAID
