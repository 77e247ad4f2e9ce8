"""The plans page as a pricing page: plans first, one price per chosen cycle, savings,
features as a list, add-ons with the plans, tax shown before ordering."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PriceFactory, ProductFactory, TaxRateFactory


@pytest.fixture
def catalogue(db):
    plan = ProductFactory(
        name="Starter hosting", slug="starter", description="1 website, 10 GB SSD, daily backups."
    )
    PriceFactory(product=plan, cycle="monthly", amount=500)
    PriceFactory(product=plan, cycle="yearly", amount=5000)
    domain = ProductFactory(name=".com domain", slug="com", kind="domain", description="DNS.")
    PriceFactory(product=domain, cycle="yearly", amount=1299)
    addon = ProductFactory(name="Extra backups", slug="backups", kind="addon", description="x")
    PriceFactory(product=addon, cycle="monthly", amount=299)
    return plan


def test_plans_come_first_then_add_ons_with_them_then_domains(client, catalogue):
    text = client.get(reverse("billing:plans")).text

    assert text.index("Hosting plans") < text.index("Add-ons for hosting plans")
    assert text.index("Add-ons for hosting plans") < text.index("Domains")
    assert "not sold on their own" in text


def test_one_price_for_the_chosen_cycle_with_the_saving_of_longer_cycles(client, catalogue):
    monthly = client.get(reverse("billing:plans")).text
    yearly = client.get(reverse("billing:plans"), {"cycle": "yearly"}).text

    assert '<span class="price__amount">€5.00</span>' in monthly
    assert "yearly €50.00 (save 17%)" in monthly
    assert '<span class="price__amount">€50.00</span>' in yearly
    assert "€4.17 a month" in yearly
    assert "save 17%" in yearly
    assert '<input type="hidden" name="cycle" value="yearly">' in yearly


def test_features_are_a_list(client, catalogue):
    text = client.get(reverse("billing:plans")).text

    assert (
        '<ul class="features"><li>1 website</li><li>10 GB SSD</li><li>daily backups</li></ul>'
        in (text)
    )


def test_prices_say_tax_is_added_when_the_country_is_unknown(client, catalogue):
    text = client.get(reverse("billing:plans")).text

    assert "Prices exclude tax; the rate of your country is added at checkout" in text


def test_a_signed_in_customer_sees_prices_with_their_countrys_vat(alice_client, catalogue):
    TaxRateFactory(country="GB", name="VAT", rate="20.00")

    text = alice_client.get(reverse("billing:plans")).text

    assert "without and with VAT at 20% for United Kingdom" in text
    assert "€6.00 with VAT" in text  # €5.00 + 20 %


def test_an_unknown_cycle_falls_back_to_monthly(client, catalogue):
    response = client.get(reverse("billing:plans"), {"cycle": "weekly"})

    assert response.status_code == 200
    assert '<span class="price__amount">€5.00</span>' in response.text
