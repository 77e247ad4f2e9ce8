"""Stripe webhooks about money going back: refunds made in Stripe's dashboard or from the
admin (one credit note whichever comes first), pending and failed refunds, disputes.

Payloads are shaped as in Stripe's API reference and signed as Stripe signs them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing import stripe_payloads
from billing.models import (
    InvoiceStatus,
    Payment,
)
from billing.services.payments import payment_apply_intent
from billing.services.refunds import credit_note_issue, invoice_refund
from tests.helpers import deliver, event, payment_intent
from tests.stripe_fixtures import WEBHOOK_SECRET

URL = reverse("billing:stripe_webhook")


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def _charge(
    payment: Payment, amount_refunded: int, refunds: list[dict[str, object]]
) -> dict[str, object]:
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
        intent=stripe_payloads.payment_intent_from_payload(
            payment_intent(pending_payment, "succeeded")
        )
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
        intent=stripe_payloads.payment_intent_from_payload(
            payment_intent(pending_payment, "succeeded")
        )
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


def test_a_charge_without_its_refund_list_gets_credit_notes_named_after_stripes_refunds(
    client, pending_payment, fake_stripe, django_capture_on_commit_callbacks
):
    """Charges of current API versions do not embed refunds: the handler reads them."""
    payment_apply_intent(
        intent=stripe_payloads.payment_intent_from_payload(
            payment_intent(pending_payment, "succeeded")
        )
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


def test_a_pending_refund_is_credited_and_a_failed_one_is_not(
    client, pending_payment, django_capture_on_commit_callbacks
):
    payment_apply_intent(
        intent=stripe_payloads.payment_intent_from_payload(
            payment_intent(pending_payment, "succeeded")
        )
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
