"""The gate: a first card payment without 3-D Secure waits for pictures and a staff
approval, then the held invoice is charged. Stripe is the real library over an
injected HTTP client answering with Stripe-shaped objects (localstripe cannot say
"no 3-D Secure"); tests/verification/test_gate_localstripe.py has the 3-D Secure side."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import (
    BillingAccount,
    HoldStatus,
    InvoiceStatus,
    PaymentMethod,
    PaymentStatus,
    VerificationHold,
)
from billing.services.cards import card_setup_complete
from billing.services.orders import CartLine, order_place
from billing.services.scheduled_charges import invoice_auto_charge, verification_holds_settle
from billing.tasks import settle_verification_holds
from notifications.models import OutboxMessage, Preferences
from tests.verification import files, stripe_shapes
from tests.verification.stripe_shapes import FakeStripe
from verification.models import Case, CaseStatus, RiskAssessment, RiskSubject
from verification.services import case_approve, case_reject, documents_submit
from verification.uploads import clean_upload


@pytest.fixture
def stripe(fake_stripe, alice):
    BillingAccount.objects.update_or_create(
        user=alice, defaults={"stripe_customer_id": stripe_shapes.CUSTOMER}
    )
    Preferences.objects.create(user=alice, sms_alerts=True)
    return FakeStripe(
        fake_stripe,
        pm_no3ds=stripe_shapes.payment_method("pm_no3ds", supported=False, fingerprint="fpA"),
        pm_other=stripe_shapes.payment_method(
            "pm_other", supported=False, fingerprint="fpB", last4="1117"
        ),
        pm_3ds=stripe_shapes.payment_method(
            "pm_3ds", supported=True, fingerprint="fpC", last4="3155"
        ),
    )


def save(alice, pm_id: str) -> PaymentMethod:
    return card_setup_complete(user=alice, setup_intent_id=f"seti_{pm_id}")


def pay(client, invoice, card):
    return client.post(
        reverse("billing:invoice_pay", args=[invoice.pk]), {"payment_method": card.pk}
    )


def send_pictures(case):
    return documents_submit(
        case=case,
        card_picture=clean_upload(files.upload("c.jpg", files.jpeg_with_gps())),
        identity_picture=clean_upload(files.upload("i.png", files.png(), "image/png")),
    )


def kinds(user, channel="email"):
    return list(
        OutboxMessage.objects.filter(user=user, channel=channel)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def test_a_first_payment_without_3ds_is_held_and_nothing_is_charged(
    stripe, alice, alice_client, alice_invoice
):
    card = save(alice, "pm_no3ds")
    assert card.three_d_secure_supported is False  # read from Stripe's PaymentMethod

    response = pay(alice_client, alice_invoice, card)
    case = Case.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("verification:case", args=[case.pk])
    assert stripe.charges == []
    alice_invoice.refresh_from_db()
    assert alice_invoice.status != InvoiceStatus.PAID and not alice_invoice.payments.exists()
    assert (case.card_fingerprint, case.card_last4, case.status) == (
        "fpA",
        "0005",
        "awaiting_documents",
    )
    hold = VerificationHold.objects.get(invoice=alice_invoice)
    assert (hold.status, hold.case_id, hold.payment_method_id) == (
        HoldStatus.WAITING,
        case.pk,
        card.pk,
    )
    assert "verification-requested" in kinds(alice)
    page = alice_client.get(reverse("billing:invoice_detail", args=[alice_invoice.pk]))
    assert "waits for the verification of your card" in page.text
    # Paying again joins the same case.
    pay(alice_client, alice_invoice, card)
    assert Case.objects.filter(user=alice).count() == 1
    assert VerificationHold.objects.filter(invoice=alice_invoice).count() == 1


def test_a_3ds_card_pays_at_once(stripe, alice, alice_client, alice_invoice):
    card = save(alice, "pm_3ds")
    response = pay(alice_client, alice_invoice, card)
    assert response["Location"] == reverse("billing:invoice_detail", args=[alice_invoice.pk])
    assert len(stripe.charges) == 1
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert not Case.objects.exists()


def test_after_approval_the_held_invoice_is_charged_and_the_customer_is_told(
    stripe, alice, alice_client, alice_invoice, client, charlie, django_capture_on_commit_callbacks
):
    card = save(alice, "pm_no3ds")
    pay(alice_client, alice_invoice, card)
    case = send_pictures(Case.objects.get(user=alice))
    assert verification_holds_settle() == 0  # under review: still waiting
    assert stripe.charges == []

    client.force_login(charlie)
    review = reverse("admin:verification_reviewcase_change", args=[case.pk])
    page = client.get(review)
    assert page.status_code == 200
    for text in ("Alice Archer", "Amex •••• 0005".lower(), "card GB", "billing GB"):
        assert text in page.text.lower() if text.islower() else text in page.text
    response = client.post(review, {"approve": "1"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decided_by_id) == (CaseStatus.APPROVED, charlie.pk)
    assert "verification-approved" in kinds(alice)
    assert "verification-approved" in kinds(alice, "sms")

    assert settle_verification_holds() == 1
    assert verification_holds_settle() == 0  # claimed once
    assert len(stripe.charges) == 1
    charge = stripe.charges[0]
    assert (charge["payment_method"], charge["off_session"]) == ("pm_no3ds", "true")
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert VerificationHold.objects.get().status == HoldStatus.CHARGED
    assert "billing-invoice-paid" in kinds(alice)
    # Radar's outcome is on the payment's fraud score, in words.
    payment = alice_invoice.payments.get()
    risk = RiskAssessment.objects.get(subject=RiskSubject.PAYMENT, subject_id=payment.pk)
    assert "Stripe Radar rates the charge elevated risk, score 67." in risk.reasons


def test_an_approved_card_and_customer_pay_without_the_gate(
    stripe, alice, alice_client, plan, settings
):
    case = send_pictures(
        Case.objects.create(
            user=alice,
            card_fingerprint="fpA",
            card_brand="amex",
            card_last4="0005",
            card_three_d_secure=False,
            reason="no_3ds",
        )
    )
    case_approve(case=case, staff=alice)
    card = save(alice, "pm_no3ds")
    other = save(alice, "pm_other")

    def invoice():
        order = order_place(
            user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
        )
        return order.invoices.get()

    first = invoice()
    pay(alice_client, first, card)
    first.refresh_from_db()
    assert first.status == InvoiceStatus.PAID
    # A new card without 3-D Secure of an approved customer pays by default...
    second = invoice()
    pay(alice_client, second, other)
    second.refresh_from_db()
    assert second.status == InvoiceStatus.PAID
    # ...or is verified too when the setting says so.
    settings.VERIFICATION_APPROVED_CUSTOMER_NEW_CARD = "verify"
    Case.objects.filter(card_fingerprint="fpB").delete()
    PaymentMethod.objects.filter(pk=other.pk).update(fingerprint="fpB2")
    other.refresh_from_db()
    third = invoice()
    response = pay(alice_client, third, other)
    assert "/verification/" in response["Location"]
    assert Case.objects.get(card_fingerprint="fpB2").status == CaseStatus.AWAITING_DOCUMENTS


def test_the_off_session_renewal_never_charges_a_card_waiting_for_review(
    stripe, alice, alice_client, alice_invoice
):
    card = save(alice, "pm_no3ds")
    pay(alice_client, alice_invoice, card)
    send_pictures(Case.objects.get(user=alice))
    assert invoice_auto_charge(invoice_id=alice_invoice.pk) is None
    assert stripe.charges == []
    assert not alice_invoice.payments.exists()


def test_a_failed_charge_after_approval_asks_the_customer_to_pay_with_one_click(
    stripe, alice, alice_client, alice_invoice, charlie
):
    card = save(alice, "pm_no3ds")
    pay(alice_client, alice_invoice, card)
    case = send_pictures(Case.objects.get(user=alice))
    case_approve(case=case, staff=charlie)
    stripe.answer = "requires_action"
    verification_holds_settle()
    assert VerificationHold.objects.get().status == HoldStatus.CHARGE_FAILED
    message = OutboxMessage.objects.get(user=alice, kind="billing-verified-charge-failed")
    assert "Pay it with one click" in message.body_text
    # The one click: the approved card now pays in the page without the gate (the intent
    # left waiting for authentication is cancelled first, so it cannot be paid twice).
    waiting = alice_invoice.payments.get()
    stripe.http.routes[
        ("POST", f"/v1/payment_intents/{waiting.stripe_payment_intent_id}/cancel")
    ] = lambda params: (
        200,
        {**stripe_shapes.payment_intent(stripe.charges[0], status="canceled")},
    )
    stripe.answer = "succeeded"
    pay(alice_client, alice_invoice, card)
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert alice_invoice.payments.filter(status=PaymentStatus.SUCCEEDED).count() == 1


def test_after_a_rejection_the_customer_sends_again_and_the_invoice_still_waits(
    stripe, alice, alice_client, alice_invoice, charlie
):
    card = save(alice, "pm_no3ds")
    pay(alice_client, alice_invoice, card)
    case = send_pictures(Case.objects.get(user=alice))
    case_reject(case=case, staff=charlie, reason="unreadable", note="The ID is blurred.")
    assert "verification-rejected" in kinds(alice, "sms")
    assert verification_holds_settle() == 0
    page = alice_client.get(reverse("verification:case", args=[case.pk]))
    assert "A picture is unreadable or blurred: The ID is blurred." in page.text
    case = send_pictures(case)
    assert case.status == CaseStatus.UNDER_REVIEW and case.decided_at is None
    assert pay(alice_client, alice_invoice, card)["Location"] == reverse(
        "verification:case", args=[case.pk]
    )
    assert stripe.charges == []


def test_a_hold_closes_when_the_invoice_is_paid_with_another_card(
    stripe, alice, alice_client, alice_invoice
):
    pay(alice_client, alice_invoice, save(alice, "pm_no3ds"))
    pay(alice_client, alice_invoice, save(alice, "pm_3ds"))
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert verification_holds_settle() == 1
    assert VerificationHold.objects.get().status == HoldStatus.CLOSED
    assert len(stripe.charges) == 1
