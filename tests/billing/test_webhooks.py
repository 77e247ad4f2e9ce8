"""The Stripe webhook: signatures, storing each event once, order-independent handling.

Payloads are shaped as in Stripe's API reference and signed exactly as Stripe signs
them (stripe.WebhookSignature.generate_signature_header).
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from billing import gateway
from billing.models import (
    BillingAccount,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    ServiceStatus,
    StripeEvent,
)
from billing.services.invoices import invoice_mark_paid
from billing.services.payments import payment_apply_intent
from billing.services.refunds import credit_note_issue, invoice_refund
from tests.factories import BillingAccountFactory, PaymentFactory, PaymentMethodFactory
from tests.helpers import deliver, event, payment_intent
from tests.stripe_fixtures import WEBHOOK_SECRET, signed

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
def pending_payment(alice_invoice) -> Payment:
    return PaymentFactory(invoice=alice_invoice, attempt=1, stripe_payment_intent_id="pi_3Test0001")


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


def _stripe_customer(customer_id: str, default: str) -> dict:
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


def _charge(payment: Payment, amount_refunded: int, refunds: list[dict]) -> dict:
    return {
        "id": "ch_3Test",
        "object": "charge",
        "amount": payment.amount,
        "amount_refunded": amount_refunded,
        "currency": payment.currency.lower(),
        "payment_intent": payment.stripe_payment_intent_id,
        "refunded": amount_refunded == payment.amount,
        "refunds": {"object": "list", "data": refunds},
    }


def test_a_refund_made_in_stripes_dashboard_yields_one_credit_note(
    client, pending_payment, django_capture_on_commit_callbacks
):
    payment_apply_intent(
        intent=gateway.payment_intent_from_payload(payment_intent(pending_payment, "succeeded"))
    )
    refund = {"id": "re_Dash1", "object": "refund", "amount": 200, "status": "succeeded"}
    payload = event("charge.refunded", _charge(pending_payment, 200, [refund]), "evt_ref_1")
    deliver(client, payload, django_capture_on_commit_callbacks)
    deliver(client, payload, django_capture_on_commit_callbacks)
    invoice = pending_payment.invoice
    note = invoice.credit_notes.get()
    assert (note.amount, note.stripe_refund_id) == (200, "re_Dash1")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID  # partly refunded
    rest = {"id": "re_Dash2", "object": "refund", "amount": invoice.total - 200}
    deliver(
        client,
        event(
            "charge.refunded", _charge(pending_payment, invoice.total, [rest, refund]), "evt_ref_2"
        ),
        django_capture_on_commit_callbacks,
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REFUNDED
    assert sorted(invoice.credit_notes.values_list("amount", flat=True)) == [
        200,
        invoice.total - 200,
    ]


def test_a_dispute_is_recorded_on_the_payment(
    client, pending_payment, django_capture_on_commit_callbacks
):
    deliver(
        client,
        event(
            "charge.dispute.created",
            {
                "id": "dp_1",
                "object": "dispute",
                "amount": pending_payment.amount,
                "charge": "ch_3Test",
                "payment_intent": pending_payment.stripe_payment_intent_id,
                "reason": "fraudulent",
                "status": "needs_response",
            },
        ),
        django_capture_on_commit_callbacks,
    )
    pending_payment.refresh_from_db()
    assert pending_payment.disputed_at is not None


def test_a_refund_from_the_admin_and_its_webhook_give_one_credit_note_in_either_order(
    client, pending_payment, fake_stripe, django_capture_on_commit_callbacks
):
    payment_apply_intent(
        intent=gateway.payment_intent_from_payload(payment_intent(pending_payment, "succeeded"))
    )
    invoice = pending_payment.invoice
    invoice.refresh_from_db()
    refund = {
        "id": "re_Admin1",
        "object": "refund",
        "amount": invoice.total,
        "currency": "eur",
        "status": "succeeded",
        "payment_intent": pending_payment.stripe_payment_intent_id,
    }
    http = fake_stripe({("POST", "/v1/refunds"): lambda params: (200, refund)})
    note = invoice_refund(invoice=invoice, reason="Customer asked")
    assert http.requests[0][2] == {
        "payment_intent": pending_payment.stripe_payment_intent_id,
        "amount": str(invoice.total),
    }
    assert (
        http.requests[0][3]["Idempotency-Key"]
        == f"refund-{pending_payment.stripe_payment_intent_id}-after-0-{invoice.total}"
    )
    deliver(
        client,
        event("charge.refunded", _charge(pending_payment, invoice.total, [refund])),
        django_capture_on_commit_callbacks,
    )
    assert list(invoice.credit_notes.all()) == [note]
    # The other order: the webhook came first, the admin's call then finds its note.
    assert (
        credit_note_issue(invoice=invoice, amount=invoice.total, stripe_refund_id="re_Admin1")
        == note
    )


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


def test_a_charge_without_its_refund_list_gets_credit_notes_named_after_stripes_refunds(
    client, pending_payment, fake_stripe, django_capture_on_commit_callbacks
):
    """Charges of current API versions do not embed refunds: the handler reads them."""
    payment_apply_intent(
        intent=gateway.payment_intent_from_payload(payment_intent(pending_payment, "succeeded"))
    )
    invoice = pending_payment.invoice
    refund = {"id": "re_Part1", "object": "refund", "amount": 200, "status": "succeeded"}
    http = fake_stripe(
        {
            ("GET", "/v1/refunds"): lambda params: (
                200,
                {"object": "list", "data": [refund], "has_more": False, "url": "/v1/refunds"},
            )
        }
    )
    charge = _charge(pending_payment, 200, [])
    del charge["refunds"]

    deliver(client, event("charge.refunded", charge), django_capture_on_commit_callbacks)

    assert http.requests[0][2]["payment_intent"] == pending_payment.stripe_payment_intent_id
    note = invoice.credit_notes.get()
    assert (note.amount, note.stripe_refund_id) == (200, "re_Part1")
    # The admin's own call for that refund, arriving second, finds the same note.
    assert credit_note_issue(invoice=invoice, amount=200, stripe_refund_id="re_Part1") == note
    assert invoice.credit_notes.count() == 1


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


def test_a_pending_refund_is_credited_and_a_failed_one_is_not(
    client, pending_payment, django_capture_on_commit_callbacks
):
    payment_apply_intent(
        intent=gateway.payment_intent_from_payload(payment_intent(pending_payment, "succeeded"))
    )
    refunds = [
        {"id": "re_Failed", "object": "refund", "amount": 300, "status": "failed"},
        {"id": "re_Pending", "object": "refund", "amount": 200, "status": "pending"},
    ]
    deliver(
        client,
        event("charge.refunded", _charge(pending_payment, 200, refunds)),
        django_capture_on_commit_callbacks,
    )
    note = pending_payment.invoice.credit_notes.get()
    assert (note.amount, note.stripe_refund_id) == (200, "re_Pending")


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
