"""Pages for a signed-in customer are never stored by a browser cache or a proxy."""

from __future__ import annotations

import pytest
from django.urls import reverse


def no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_invoice_pdf_and_card_pages_are_no_store(alice_client, alice_invoice, fake_stripe):
    fake_stripe({})
    for url in (
        reverse("billing:invoices"),
        reverse("billing:invoice_detail", args=[alice_invoice.pk]),
        reverse("billing:invoice_pdf", args=[alice_invoice.pk]),
        reverse("billing:payment_methods"),
        reverse("billing:card_add"),
        reverse("accounts:profile"),
    ):
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert no_store(response), url


def test_bob_gets_404_for_alices_invoice_pdf(client, bob, alice_invoice):
    client.force_login(bob)

    response = client.get(reverse("billing:invoice_pdf", args=[alice_invoice.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_public_pages_stay_cacheable_for_visitors(client):
    assert not no_store(client.get("/plans/"))
