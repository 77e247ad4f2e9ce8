"""Stripe webhooks about disputes: charge.dispute.created, .updated and .closed move the
payment's dispute to Stripe's state, once, in whatever order they arrive; a dispute
counts as open until Stripe closes it, for the erasure blocker and for staff.

Dispute objects are shaped as in Stripe's API reference (the Dispute object) and the
events are signed as Stripe signs them."""

from __future__ import annotations

import datetime
import time

import pytest
from django.urls import reverse

from billing.models import DisputeOutcome, Payment
from privacy import erasure
from tests.helpers import deliver, event
from tests.stripe_fixtures import WEBHOOK_SECRET

OPENED = 1_764_590_400  # 2025-12-01 12:00 UTC, when Stripe opened the dispute


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def dispute(payment: Payment, status: str, **fields: object) -> dict[str, object]:
    """A Dispute object as Stripe's API reference shows it."""
    return {
        "id": "du_1MtJUT2eZvKYlo2CNaw2HvEv",
        "object": "dispute",
        "amount": payment.amount,
        "balance_transactions": [],
        "charge": "ch_1AZtxr2eZvKYlo2CJDX8whov",
        "created": OPENED,
        "currency": payment.currency.lower(),
        "evidence": {"customer_name": None, "uncategorized_text": None},
        "evidence_details": {
            "due_by": OPENED + 21 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment.stripe_payment_intent_id,
        "reason": "fraudulent",
        "status": status,
        **fields,
    }


def send(client, capture, type_: str, obj: dict[str, object], event_id: str, *, at: int = 0):
    payload = event(type_, obj, event_id)
    payload["created"] = at or int(time.time())
    response = deliver(client, payload, capture)
    assert response.status_code == 200
    return payload


def utc(timestamp: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


def blocks_erasure(payment: Payment) -> bool:
    user = payment.invoice.user
    assert user is not None
    return any("disputed" in b.reason for b in erasure.blockers(user))


@pytest.mark.django_db
def test_a_dispute_is_open_from_created_through_updated_until_closed_won(
    client, pending_payment, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    send(
        client, capture, "charge.dispute.created", dispute(pending_payment, "needs_response"), "e1"
    )
    pending_payment.refresh_from_db()
    assert pending_payment.disputed_at == utc(OPENED)
    assert pending_payment.dispute_status == "needs_response"
    assert pending_payment.dispute_closed_at is None
    assert blocks_erasure(pending_payment)

    send(client, capture, "charge.dispute.updated", dispute(pending_payment, "under_review"), "e2")
    pending_payment.refresh_from_db()
    assert pending_payment.dispute_status == "under_review"
    assert blocks_erasure(pending_payment)

    closed_at = OPENED + 30 * 86400
    closing = send(
        client,
        capture,
        "charge.dispute.closed",
        dispute(pending_payment, "won"),
        "e3",
        at=closed_at,
    )
    pending_payment.refresh_from_db()
    assert pending_payment.dispute_closed_at == utc(closed_at)
    assert pending_payment.dispute_outcome == DisputeOutcome.WON
    assert not blocks_erasure(pending_payment)

    deliver(client, closing, capture)  # Stripe delivers again: nothing changes
    pending_payment.refresh_from_db()
    assert pending_payment.dispute_closed_at == utc(closed_at)


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["lost", "warning_closed"])
def test_a_lost_dispute_or_a_closed_inquiry_is_closed_too(
    client, pending_payment, django_capture_on_commit_callbacks, outcome
):
    capture = django_capture_on_commit_callbacks
    send(
        client, capture, "charge.dispute.created", dispute(pending_payment, "needs_response"), "e1"
    )
    send(client, capture, "charge.dispute.closed", dispute(pending_payment, outcome), "e2")

    pending_payment.refresh_from_db()
    assert pending_payment.dispute_outcome == outcome
    assert pending_payment.dispute_closed_at is not None
    assert not blocks_erasure(pending_payment)


@pytest.mark.django_db
def test_events_out_of_order_never_reopen_a_closed_dispute(
    client, pending_payment, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    send(client, capture, "charge.dispute.closed", dispute(pending_payment, "lost"), "e3")
    pending_payment.refresh_from_db()
    assert pending_payment.disputed_at == utc(OPENED)  # the closing event opened it too
    assert pending_payment.dispute_outcome == "lost"

    send(
        client, capture, "charge.dispute.created", dispute(pending_payment, "needs_response"), "e1"
    )
    send(client, capture, "charge.dispute.updated", dispute(pending_payment, "under_review"), "e2")

    pending_payment.refresh_from_db()
    assert pending_payment.dispute_status == "lost"
    assert pending_payment.dispute_closed_at is not None
    assert not blocks_erasure(pending_payment)


@pytest.mark.django_db
def test_a_chargeback_after_a_closed_inquiry_opens_again_and_the_old_one_stays_behind(
    client, pending_payment, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    inquiry = {"id": "du_inquiry"}
    send(
        client,
        capture,
        "charge.dispute.closed",
        dispute(pending_payment, "warning_closed", **inquiry),
        "e1",
    )
    chargeback = {"id": "du_chargeback", "created": OPENED + 86400}
    send(
        client,
        capture,
        "charge.dispute.created",
        dispute(pending_payment, "needs_response", **chargeback),
        "e2",
    )
    pending_payment.refresh_from_db()
    assert pending_payment.stripe_dispute_id == "du_chargeback"
    assert pending_payment.dispute_closed_at is None
    assert blocks_erasure(pending_payment)

    # The inquiry's own opening event, delivered late, is about the older dispute.
    send(
        client,
        capture,
        "charge.dispute.created",
        dispute(pending_payment, "warning_needs_response", **inquiry),
        "e0",
    )
    pending_payment.refresh_from_db()
    assert (pending_payment.stripe_dispute_id, pending_payment.dispute_status) == (
        "du_chargeback",
        "needs_response",
    )


@pytest.mark.django_db
def test_a_dispute_without_a_payment_intent_is_found_by_its_charge(
    client, pending_payment, django_capture_on_commit_callbacks
):
    Payment.objects.filter(pk=pending_payment.pk).update(stripe_charge_id="ch_Only")
    send(
        client,
        django_capture_on_commit_callbacks,
        "charge.dispute.created",
        dispute(pending_payment, "warning_needs_response", payment_intent=None, charge="ch_Only"),
        "e1",
    )
    pending_payment.refresh_from_db()
    assert pending_payment.dispute_status == "warning_needs_response"


@pytest.mark.django_db
def test_the_erasure_page_shows_an_open_dispute_with_how_to_clear_it(
    client, pending_payment, django_capture_on_commit_callbacks
):
    send(
        client,
        django_capture_on_commit_callbacks,
        "charge.dispute.created",
        dispute(pending_payment, "needs_response"),
        "e1",
    )
    client.force_login(pending_payment.invoice.user)
    page = client.get(reverse("privacy:erasure")).content.decode()

    number = pending_payment.invoice.number
    assert f"The payment of invoice {number} is disputed with your bank" in page
    assert "you can erase once it is closed" in page


@pytest.mark.django_db
def test_staff_filter_payments_by_open_and_closed_disputes(
    client, charlie, pending_payment, alice_invoice
):
    Payment.objects.create(
        invoice=alice_invoice,
        attempt=pending_payment.attempt + 1,
        amount=100,
        currency="EUR",
        disputed_at=utc(OPENED),
        dispute_status="won",
        dispute_closed_at=utc(OPENED + 86400),
        dispute_outcome="won",
    )
    Payment.objects.filter(pk=pending_payment.pk).update(
        disputed_at=utc(OPENED), dispute_status="needs_response"
    )
    client.force_login(charlie)
    url = reverse("admin:billing_payment_changelist")

    open_page = client.get(url, {"dispute": "open"}).content.decode()
    closed_page = client.get(url, {"dispute": "closed"}).content.decode()

    assert "open since 01 Dec 2025 (needs_response)" in open_page
    assert "Won on" not in open_page
    assert "Won on 02 Dec 2025" in closed_page
    assert "open since" not in closed_page
