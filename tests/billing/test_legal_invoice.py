"""Invoices carry what the law asks: the seller's identity, quantities and the tax basis.

Read on the page and in the PDF's own text (pdftotext), not in the HTML it came from.
"""

from __future__ import annotations

import subprocess

import pytest
from django.urls import reverse

from billing.models import BillingAccount
from billing.services.orders import CartLine, order_place
from tests.factories import TaxRateFactory


@pytest.fixture(autouse=True)
def _seller(settings):
    settings.BILLING_SELLER_NAME = "Hostwerk Ltd"
    settings.BILLING_SELLER_ADDRESS = "4 Quay Street\nGalway H91 X2Y3\nIreland"
    settings.BILLING_SELLER_VAT_NUMBER = "IE6388047V"
    settings.BILLING_SELLER_COMPANY_NUMBER = "712345"
    settings.BILLING_SELLER_COUNTRY = "IE"


def _pdf_text(client, invoice) -> str:
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    result = subprocess.run(
        ["/usr/bin/pdftotext", "-layout", "-", "-"],  # noqa: S603 - fixed arguments
        input=response.content,
        capture_output=True,
        check=True,
    )
    return " ".join(result.stdout.decode().split())


def _two_identical_plans(user, plan):
    line = CartLine(product_id=plan.pk, cycle="monthly")
    return order_place(user=user, lines=[line, line], currency="EUR").invoices.get()


def test_the_pdf_carries_the_sellers_identity_and_one_line_with_a_quantity(
    alice_client, alice, plan, uk_vat
):
    invoice = _two_identical_plans(alice, plan)

    text = _pdf_text(alice_client, invoice)

    assert "Hostwerk Ltd" in text
    assert "4 Quay Street" in text and "Galway H91 X2Y3" in text
    assert "VAT number IE6388047V" in text
    assert "Company number 712345" in text
    assert text.count("Starter hosting (monthly)") == 1
    # quantity 2 at €5.00 each: €10.00, plus 20 % VAT.
    assert "2 €5.00 €10.00" in text
    assert "VAT charged at 20% on the subtotal of €10.00" in text
    assert "Total €12.00" in text


def test_the_invoice_page_groups_identical_items_and_states_the_tax_basis(
    alice_client, alice, plan, uk_vat
):
    invoice = _two_identical_plans(alice, plan)

    response = alice_client.get(reverse("billing:invoice_detail", args=[invoice.pk]))

    text = response.text
    assert text.count("Starter hosting (monthly)") == 1
    assert '<td data-label="Quantity">2</td>' in text
    assert "Company number 712345" in text
    assert "VAT charged at 20% on the subtotal of €10.00, the rate for customers in" in text
    # The stored lines stay one per service: each paid line starts its own service.
    assert invoice.lines.count() == 2


def test_a_reverse_charged_invoice_names_both_vat_numbers(alice_client, alice, plan):
    TaxRateFactory(country="DE", name="VAT", rate="19.00", is_eu=True)
    alice.country = "DE"
    alice.save()
    BillingAccount.objects.create(user=alice, vat_number="DE123456789")
    invoice = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()

    text = _pdf_text(alice_client, invoice)

    assert "Reverse charge" in text
    assert "Article 196, Council Directive 2006/112/EC" in text
    assert "Supplier VAT number IE6388047V; customer VAT number DE123456789." in text


def test_an_invoice_without_tax_says_why(alice_client, alice, plan):
    alice.country = "US"
    alice.save()
    invoice = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()

    response = alice_client.get(reverse("billing:invoice_detail", args=[invoice.pk]))

    assert "No tax charged: no tax rate applies to customers in United States of America." in (
        response.text
    )
