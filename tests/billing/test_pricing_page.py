"""The plans page as a pricing page: plans first, one price per chosen cycle, savings,
features as a list, add-ons with the plans, tax shown before ordering."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import PriceFactory, ProductFactory, TaxRateFactory


@pytest.fixture
def catalogue(db):
    plan = ProductFactory(
        name="Starter hosting",
        slug="starter",
        category="shared",
        description="1 website, 10 GB SSD, daily backups.",
    )
    PriceFactory(product=plan, cycle="monthly", amount=500)
    PriceFactory(product=plan, cycle="yearly", amount=5000)
    vps = ProductFactory(name="VPS 2 GB", slug="vps-2", category="vps", description="2 vCPU.")
    PriceFactory(product=vps, cycle="monthly", amount=2000)
    domain = ProductFactory(name=".com domain", slug="com", kind="domain", description="DNS.")
    PriceFactory(product=domain, cycle="yearly", amount=1299)
    addon = ProductFactory(name="Extra backups", slug="backups", kind="addon", description="x")
    addon.addon_for.set([plan])
    PriceFactory(product=addon, cycle="monthly", amount=299)
    return plan


def _headings(text: str) -> list[str]:
    return re.findall(r"<h[23] id=\"(?:group|addons)-[^\"]+\">([^<]+)</h[23]>", text)


def test_plans_come_first_grouped_by_kind_with_their_add_ons_then_domains(client, catalogue):
    text = client.get(reverse("billing:plans")).text

    assert _headings(text) == [
        "Shared hosting",
        "Add-ons for Shared hosting plans",
        "VPS",
        "Domains",
    ]
    assert "not sold on their own" in text
    assert "Sold with Starter hosting: tick it on one of their cards" in text


def test_the_kind_is_what_staff_set_on_the_product(client, catalogue):
    catalogue.category = "vps"
    catalogue.save()

    text = client.get(reverse("billing:plans")).text

    assert _headings(text) == ["VPS", "Add-ons for VPS plans", "Domains"]


def test_a_plans_card_offers_its_add_ons_and_the_add_on_has_no_button_of_its_own(client, catalogue):
    text = client.get(reverse("billing:plans")).text
    starter = text[text.index('id="product-starter"') : text.index("</article>")]
    backups = text[text.index('id="product-backups"') :]
    backups = backups[: backups.index("</article>")]

    assert 'name="addons" value="' in starter
    assert 'Extra backups <span class="help">+€2.99 monthly</span>' in starter
    assert "<button" not in backups
    assert "it is not sold on its own" in backups


def test_an_add_on_can_be_added_alone_once_its_plan_is_in_the_cart(client, catalogue):
    client.post(reverse("billing:cart_add"), {"product": catalogue.pk, "cycle": "monthly"})

    text = client.get(reverse("billing:plans")).text
    backups = text[text.index('id="product-backups"') :]

    assert "Add Extra backups to cart" in backups[: backups.index("</article>")]


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


@override_settings(VERIFICATION_TRUSTED_PROXIES=["127.0.0.1/32"])
def test_a_visitor_placed_in_a_country_by_the_proxy_sees_its_vat(client, catalogue):
    TaxRateFactory(country="DE", name="MwSt", rate="19.00")

    text = client.get(reverse("billing:plans"), HTTP_CF_IPCOUNTRY="DE").text

    assert "without and with MwSt at 19% for Germany" in text
    assert "€5.95 with MwSt" in text


def test_an_unknown_cycle_falls_back_to_monthly(client, catalogue):
    response = client.get(reverse("billing:plans"), {"cycle": "weekly"})

    assert response.status_code == 200
    assert '<span class="price__amount">€5.00</span>' in response.text
