"""Staff read money as money: every amount in the billing admin carries its currency."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from billing.models import CreditNote, Payment, PaymentStatus, Price
from billing.personal_data import export
from core.personal import category_value
from tests.helpers import product_admin_form


@pytest.fixture
def staff(client, charlie):
    client.force_login(charlie)
    return client


@pytest.fixture
def invoice(alice_invoice):
    # Starter hosting monthly, EUR 5.00 + 20 % UK VAT = EUR 6.00.
    Payment.objects.create(
        invoice=alice_invoice, attempt=1, amount=600, currency="EUR", status=PaymentStatus.FAILED
    )
    CreditNote.objects.create(
        invoice=alice_invoice,
        number="CN-2026-000009",
        amount=250,
        currency="EUR",
        year=2026,
        sequence=9,
        reason="Goodwill",
        issued_on=date(2026, 12, 1),
    )
    return alice_invoice


@pytest.mark.parametrize(
    ("model", "shown"),
    [
        ("invoice", "€6.00"),
        ("payment", "€6.00"),
        ("creditnote", "€2.50"),
        ("service", "€5.00"),
    ],
)
def test_changelists_show_amounts_with_their_currency(staff, invoice, model, shown):
    response = staff.get(reverse(f"admin:billing_{model}_changelist"))

    assert shown in response.text
    assert ">600<" not in response.text and ">500<" not in response.text


def test_the_invoice_page_shows_totals_lines_and_payments_as_money(staff, invoice):
    response = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))

    text = response.text
    assert "€5.00" in text  # subtotal, the line's unit price and amount
    assert "€1.00" in text  # tax
    assert "€6.00" in text  # total and the failed payment
    assert "€2.50" in text  # credit note
    assert '<div class="readonly">600</div>' not in text


def test_the_payment_page_shows_its_amount_as_money(staff, invoice):
    payment = Payment.objects.get(invoice=invoice)

    response = staff.get(reverse("admin:billing_payment_change", args=[payment.pk]))

    assert "€6.00" in response.text
    assert '<div class="readonly">600</div>' not in response.text


def test_staff_type_prices_in_major_units(staff, plan):
    price = plan.prices.get(currency="EUR", cycle="yearly")
    url = reverse("admin:billing_product_change", args=[plan.pk])
    page = staff.get(url)
    assert 'value="50.00"' in page.text and 'value="10.00"' in page.text

    yearly = list(plan.prices.order_by("pk")).index(price)
    data = product_admin_form(plan, **{f"prices-{yearly}-amount": "47.90"})

    response = staff.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    assert Price.objects.get(pk=price.pk).amount == 4790
    assert Price.objects.get(pk=price.pk).setup_fee == 1000


def test_the_customers_data_export_gives_amounts_with_their_currency(invoice):
    data = export(invoice.user)

    [exported] = category_value(data["invoices"])
    assert exported["total"] == "€6.00"
    assert exported["lines"][0]["unit_price"] == "€5.00"
    assert category_value(data["payments"])[0]["amount"] == "€6.00"
