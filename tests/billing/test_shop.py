"""Catalogue, currency choice, session cart and checkout."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing.models import Invoice, Service
from tests.factories import PriceFactory, ProductFactory


def test_it_lists_products_with_prices_in_the_default_currency(client, plan):
    response = client.get(reverse("billing:plans"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Starter hosting" in body
    assert "€5.00" in body
    assert "$6.00" not in body


def test_it_leaves_out_inactive_products(client, plan):
    hidden = ProductFactory(name="Retired plan", is_active=False)
    PriceFactory(product=hidden)
    assert "Retired plan" not in client.get(reverse("billing:plans")).content.decode()


def test_it_keeps_the_currency_in_the_session_without_functional_consent(client, plan):
    response = client.post(
        reverse("billing:currency"), {"currency": "USD", "next": reverse("billing:plans")}
    )
    assert response.status_code == 302
    assert "currency" not in response.cookies
    assert "$6.00" in client.get(reverse("billing:plans")).content.decode()


def accept_functional_cookies(client) -> None:
    """The visitor ticks "functional" in the cookie banner (privacy's real view)."""
    response = client.post(reverse("privacy:consent"), {"choice": "custom", "functional": "on"})
    assert response.status_code in (200, 302)


def test_it_sets_a_currency_cookie_only_with_functional_consent(client, plan):
    accept_functional_cookies(client)
    response = client.post(reverse("billing:currency"), {"currency": "USD"})
    assert response.cookies["currency"].value == "USD"
    assert response.cookies["currency"]["httponly"]


def test_it_reads_the_currency_cookie_only_with_functional_consent(client, plan):
    client.cookies["currency"] = "USD"
    assert "€5.00" in client.get(reverse("billing:plans")).content.decode()
    accept_functional_cookies(client)
    client.cookies["currency"] = "USD"
    assert "$6.00" in client.get(reverse("billing:plans")).content.decode()


def test_it_removes_a_currency_cookie_left_from_an_earlier_consent(client, plan):
    client.cookies["currency"] = "USD"
    response = client.post(reverse("billing:currency"), {"currency": "GBP"})
    assert response.cookies["currency"].value == ""  # deleted
    assert response.cookies["currency"]["max-age"] == 0


def test_it_refuses_an_unknown_currency(client, db):
    response = client.post(reverse("billing:currency"), {"currency": "XXX"})
    assert response.status_code == 400


def test_it_does_not_redirect_to_another_site_after_a_currency_change(client, db):
    response = client.post(
        reverse("billing:currency"), {"currency": "EUR", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("billing:plans")


def test_a_visitor_fills_a_cart_and_is_asked_to_sign_in(client, plan):
    client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "yearly"})
    response = client.get(reverse("billing:cart"))
    body = response.content.decode()
    assert "Starter hosting" in body
    assert "€60.00" in body  # 50.00 + 10.00 setup fee
    assert "sign in" in body
    checkout = client.post(reverse("billing:checkout"))
    assert checkout.status_code == 302
    assert reverse("account_login") in checkout["Location"]


def test_it_refuses_a_cycle_the_product_has_no_price_for(client, plan):
    response = client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "weekly"})
    assert response.status_code == 302
    assert client.session.get("billing_cart") is None


def test_it_removes_a_line_from_the_cart(client, plan):
    client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
    client.post(reverse("billing:cart_remove", args=[0]))
    assert client.session["billing_cart"] == []


def test_checkout_creates_the_order_and_shows_the_invoice(alice_client, alice, plan, uk_vat):
    alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
    response = alice_client.post(reverse("billing:checkout"), {"vat_number": ""})
    invoice = Invoice.objects.get(user=alice)
    assert response["Location"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert Service.objects.get(user=alice).status == "pending"
    assert alice_client.session.get("billing_cart") is None
    assert invoice.total == 600


def test_checkout_keeps_the_currency_chosen_for_display(alice_client, alice, plan):
    alice_client.post(reverse("billing:currency"), {"currency": "USD"})
    alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
    alice_client.post(reverse("billing:checkout"))
    invoice = Invoice.objects.get(user=alice)
    assert (invoice.currency, invoice.subtotal) == ("USD", 600)
    alice_client.post(reverse("billing:currency"), {"currency": "EUR"})
    invoice.refresh_from_db()
    assert invoice.currency == "USD"


def test_checkout_with_an_empty_cart_says_so(alice_client):
    response = alice_client.post(reverse("billing:checkout"), follow=True)
    assert "Your cart is empty." in response.content.decode()


def test_checkout_refuses_a_malformed_vat_number(alice_client, alice, plan):
    alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
    response = alice_client.post(reverse("billing:checkout"), {"vat_number": "not a number!"})
    assert response.status_code == 400
    assert not Invoice.objects.exists()
    field = re.search(r"<input[^>]*name=\"vat_number\"[^>]*>", response.content.decode()).group(0)
    assert 'aria-invalid="true"' in field
    assert "id_vat_number_error" in field
    error = re.search(r'id="id_vat_number_error">(.*?)</div>', response.content.decode(), re.S)
    assert "country prefix" in error.group(1)
    assert 'value="NOT A NUMBER!"' not in field  # what was typed is kept as typed
    assert 'value="not a number!"' in field


@pytest.mark.parametrize("restricted", [False, True])
def test_it_recommends_only_when_processing_is_not_restricted(
    alice_client, alice, plan, restricted, monkeypatch
):
    from billing.services.orders import CartLine, order_place

    domain = ProductFactory(name="Dot com domain", kind="domain")
    PriceFactory(product=domain, cycle="yearly", amount=1200)
    order_place(user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR")
    if restricted:
        from django.utils import timezone

        alice.processing_restricted_at = timezone.now()
        alice.save(update_fields=["processing_restricted_at"])
    body = alice_client.get(reverse("billing:plans")).content.decode()
    assert ("Recommended for you" in body) is not restricted


def test_a_customer_saves_a_vat_number_for_new_invoices(alice_client, alice):
    from billing.models import BillingAccount

    alice.country = "DE"  # the number must be one of the customer's own country
    alice.save()
    response = alice_client.post(reverse("billing:details"), {"vat_number": "de 123 456 789"})
    assert response.status_code == 302
    assert BillingAccount.objects.get(user=alice).vat_number == "DE123456789"
    page = alice_client.get(reverse("billing:details")).content.decode()
    assert 'value="DE123456789"' in page


def test_a_malformed_vat_number_gets_a_form_error(alice_client, alice):
    response = alice_client.post(reverse("billing:details"), {"vat_number": "12"})
    assert response.status_code == 200
    assert "country prefix" in response.content.decode()


def test_billing_details_need_sign_in(client, db):
    assert client.get(reverse("billing:details")).status_code == 302


def test_submitting_the_same_cart_twice_places_one_order(alice_client, alice, plan):
    """A double click: the second request still carries the cart in its session."""
    alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
    saved = {key: alice_client.session[key] for key in ("billing_cart", "billing_cart_token")}
    first = alice_client.post(reverse("billing:checkout"), {"vat_number": ""})
    session = alice_client.session
    session.update(saved)
    session.save()

    second = alice_client.post(reverse("billing:checkout"), {"vat_number": ""})

    invoice = Invoice.objects.get(user=alice)
    assert (
        first["Location"]
        == second["Location"]
        == reverse("billing:invoice_detail", args=[invoice.pk])
    )
    assert Service.objects.filter(user=alice).count() == 1


def test_the_same_products_ordered_again_later_are_a_new_order(alice_client, alice, plan):
    for _ in range(2):
        alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
        alice_client.post(reverse("billing:checkout"), {"vat_number": ""})
    assert Invoice.objects.filter(user=alice).count() == 2


def test_it_refuses_a_known_cycle_the_product_is_not_sold_with(client, plan):
    response = client.post(
        reverse("billing:cart_add"), {"product": plan.pk, "cycle": "quarterly"}, follow=True
    )
    assert "This product is not sold with that billing cycle." in response.content.decode()
    assert client.session.get("billing_cart") is None


def test_a_vat_number_of_another_country_than_the_profiles_gets_a_field_error(
    alice_client, alice, plan
):
    alice.country = "FR"
    alice.save()
    alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})

    response = alice_client.post(reverse("billing:checkout"), {"vat_number": "DE123456789"})

    assert response.status_code == 400
    error = re.search(r'id="id_vat_number_error">(.*?)</div>', response.content.decode(), re.S)
    assert "starts with FR" in error.group(1)
    assert not Invoice.objects.exists()
    details = alice_client.post(reverse("billing:details"), {"vat_number": "DE123456789"})
    assert "starts with FR" in details.content.decode()
    assert (
        alice_client.post(reverse("billing:details"), {"vat_number": "FR12345678901"}).status_code
        == 302
    )


def test_the_cart_shows_the_tax_the_invoice_will_carry(alice_client, alice, plan, uk_vat):
    alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})

    text = alice_client.get(reverse("billing:cart")).text
    alice_client.post(reverse("billing:checkout"), {"vat_number": ""})

    assert "Due today: €5.00 + VAT 20% (United Kingdom) €1.00 = <strong>€6.00</strong>" in text
    assert Invoice.objects.get(user=alice).total == 600


def test_the_cart_says_reverse_charge_for_an_eu_business(alice_client, alice, plan):
    from billing.models import BillingAccount
    from tests.factories import TaxRateFactory

    TaxRateFactory(country="FR", name="TVA", rate="20.00", is_eu=True)
    alice.country = "FR"
    alice.save()
    BillingAccount.objects.update_or_create(user=alice, defaults={"vat_number": "FR12345678901"})
    alice_client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})

    text = alice_client.get(reverse("billing:cart")).text

    assert "no TVA: reverse charge with your VAT number" in text


def test_a_visitor_of_unknown_country_is_told_tax_comes_at_checkout(client, plan, uk_vat):
    client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})

    text = client.get(reverse("billing:cart")).text

    assert "<strong>Due today: €5.00</strong> plus tax where it applies." in text
