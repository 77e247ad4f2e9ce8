"""A card payment that succeeds on an invoice no longer payable (cancelled or paid another
way meanwhile) is flagged "needs refund" on the Payment, and staff are told by email once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from billing.models import Invoice, InvoiceStatus, Payment, PaymentStatus
from billing.services.payments import payment_flag_for_refund
from notifications.models import OutboxMessage
from tests.factories import UserFactory
from tests.helpers import deliver, event, payment_intent
from tests.stripe_fixtures import WEBHOOK_SECRET

KIND = "billing-staff-payment-needs-refund"


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


@pytest.fixture
def late_payment(alice_invoice) -> Payment:
    """A payment on its way at Stripe while staff cancel the invoice."""
    payment = Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=alice_invoice.total,
        currency=alice_invoice.currency,
        stripe_payment_intent_id="pi_3Late0001",
    )
    Invoice.objects.filter(pk=alice_invoice.pk).update(status=InvoiceStatus.CANCELLED)
    return payment


def test_it_flags_the_payment_and_emails_staff_once_under_redelivery(
    client, alice, charlie, late_payment, django_capture_on_commit_callbacks
):
    UserFactory(email="former@example.com", is_staff=True, is_active=False)
    mail.outbox.clear()
    succeeded = event("payment_intent.succeeded", payment_intent(late_payment, "succeeded"))
    for payload in (succeeded, succeeded, {**succeeded, "id": "evt_another_delivery"}):
        response = deliver(client, payload, django_capture_on_commit_callbacks)
        assert response.status_code == 200

    late_payment.refresh_from_db()
    assert late_payment.status == PaymentStatus.SUCCEEDED
    assert late_payment.needs_refund is True
    assert late_payment.needs_refund_since is not None
    late_payment.invoice.refresh_from_db()
    assert late_payment.invoice.status == InvoiceStatus.CANCELLED

    rows = OutboxMessage.objects.filter(kind=KIND)
    assert [row.recipient for row in rows] == [charlie.email]
    assert "refund" in rows[0].subject.lower()
    assert late_payment.invoice.number in rows[0].subject
    assert "cancelled" in rows[0].body_text
    assert "pi_3Late0001" in rows[0].body_text
    assert reverse("admin:billing_payment_change", args=[late_payment.pk]) in rows[0].body_text
    assert not OutboxMessage.objects.filter(user=alice, kind=KIND).exists()
    staff_mail = [m for m in mail.outbox if m.to == [charlie.email]]
    assert len(staff_mail) == 1
    assert staff_mail[0].subject == rows[0].subject


def test_flagging_twice_tells_staff_once(charlie, late_payment):
    assert payment_flag_for_refund(payment=late_payment) is True
    assert payment_flag_for_refund(payment=late_payment) is False
    assert OutboxMessage.objects.filter(kind=KIND).count() == 1


def test_a_payment_on_a_payable_invoice_is_not_flagged(
    client, charlie, alice_invoice, django_capture_on_commit_callbacks
):
    payment = Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=alice_invoice.total,
        currency=alice_invoice.currency,
        stripe_payment_intent_id="pi_3OnTime01",
    )
    deliver(
        client,
        event("payment_intent.succeeded", payment_intent(payment, "succeeded")),
        django_capture_on_commit_callbacks,
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.needs_refund is False
    assert not OutboxMessage.objects.filter(kind=KIND).exists()


def test_a_second_payment_on_an_invoice_paid_meanwhile_is_flagged(
    charlie, alice_invoice, django_capture_on_commit_callbacks, client
):
    first, second = (
        Payment.objects.create(
            invoice=alice_invoice,
            attempt=attempt,
            amount=alice_invoice.total,
            currency=alice_invoice.currency,
            stripe_payment_intent_id=f"pi_3Twice000{attempt}",
        )
        for attempt in (1, 2)
    )
    for payment in (first, second):
        deliver(
            client,
            event("payment_intent.succeeded", payment_intent(payment, "succeeded")),
            django_capture_on_commit_callbacks,
        )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.needs_refund, second.needs_refund) == (False, True)
    row = OutboxMessage.objects.get(kind=KIND)
    assert "paid" in row.body_text


def test_staff_find_and_clear_payments_that_need_a_refund(client, charlie, late_payment):
    payment_flag_for_refund(payment=late_payment)
    client.force_login(charlie)
    changelist = reverse("admin:billing_payment_changelist")
    body = client.get(changelist, {"needs_refund__exact": "1"}).content.decode()
    assert "needs refund" in body.lower()
    assert late_payment.invoice.number in body
    assert (
        late_payment.invoice.number
        not in client.get(changelist, {"needs_refund__exact": "0"}).content.decode()
    )

    response = client.post(
        changelist, {"action": "refund_handled", "_selected_action": [late_payment.pk]}, follow=True
    )
    assert "1 payment(s) no longer need a refund." in response.content.decode()
    late_payment.refresh_from_db()
    assert late_payment.needs_refund is False
    assert late_payment.needs_refund_since is not None
    # A redelivered event does not flag it (or write to staff) again.
    assert payment_flag_for_refund(payment=late_payment) is False
    assert OutboxMessage.objects.filter(kind=KIND).count() == 1
