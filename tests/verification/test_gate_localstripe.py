"""The gate against localstripe (every card there supports 3-D Secure): such a card
pays normally, authenticated by Stripe, and no case is opened."""

from __future__ import annotations

from django.urls import reverse

from billing.models import InvoiceStatus
from tests.helpers import NEEDS_3DS, VISA, save_card
from verification.models import Case, RiskAssessment, RiskSubject


def test_a_first_payment_with_a_3ds_card_pays_without_verification(
    localstripe, alice, alice_client, alice_invoice
):
    card = save_card(localstripe, alice, VISA)
    assert card.three_d_secure_supported is True
    response = alice_client.post(
        reverse("billing:invoice_pay", args=[alice_invoice.pk]), {"payment_method": card.pk}
    )
    assert response["Location"] == reverse("billing:invoice_detail", args=[alice_invoice.pk])
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert not Case.objects.exists()
    payment = alice_invoice.payments.get()
    assert RiskAssessment.objects.filter(
        subject=RiskSubject.PAYMENT, subject_id=payment.pk
    ).exists()


def test_a_3ds_card_the_bank_challenges_is_authenticated_in_the_page(
    localstripe, alice, alice_client, alice_invoice
):
    card = save_card(localstripe, alice, NEEDS_3DS)
    response = alice_client.post(
        reverse("billing:invoice_pay", args=[alice_invoice.pk]), {"payment_method": card.pk}
    )
    assert response.status_code == 200
    assert response.context["action_client_secret"].startswith("pi_")
    assert not Case.objects.exists()
