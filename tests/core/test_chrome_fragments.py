"""The shared chrome rendered once per process and per what it depends on
(core/templatetags/chrome.py): every page still gets its own token, path, menu state
and escaping, and the page reads the same as when it is rendered afresh."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from core.templatetags import chrome
from tests.factories import PriceFactory, ProductFactory

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def _same_but_tokens(text: str) -> str:
    return TOKEN.sub('name="csrfmiddlewaretoken" value="T"', text)


def _signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.parametrize("page", ["core:home", "billing:plans", "privacy:policy"])
def test_a_kept_page_reads_as_one_rendered_afresh(client, db, page):
    chrome._kept.clear()
    fresh = client.get(reverse(page)).text
    kept = client.get(reverse(page)).text

    assert _same_but_tokens(kept) == _same_but_tokens(fresh)
    assert chrome.STAND_IN not in kept


def test_each_page_gets_its_own_token_in_a_kept_form(alice, bob):
    first = _signed_in(alice).get(reverse("core:dashboard"))
    second = _signed_in(bob).get(reverse("core:dashboard"))

    # the sign-out form and the consent banner's: the page's own token in both
    one, again = TOKEN.findall(first.text)
    other, _ = TOKEN.findall(second.text)
    assert len(one) == len(other) == 64 and one == again and one != other


def test_the_staff_link_shows_only_to_staff(alice, charlie):
    assert "Staff admin" not in _signed_in(alice).get(reverse("core:dashboard")).text
    assert "Staff admin" in _signed_in(charlie).get(reverse("core:dashboard")).text
    assert "Staff admin" not in _signed_in(alice).get(reverse("core:dashboard")).text


def test_the_menu_marks_the_page_being_shown(alice_client):
    for name, label in [
        ("core:dashboard", "Dashboard"),
        ("billing:invoices", "Invoices"),
        ("core:dashboard", "Dashboard"),
    ]:
        text = alice_client.get(reverse(name)).text
        assert re.findall(r'aria-current="page">([^<]+)<', text)[0] == label


def test_a_visitor_and_a_customer_get_their_own_header(alice):
    visitor = Client()
    assert "Create account" in visitor.get(reverse("billing:plans")).text
    text = _signed_in(alice).get(reverse("billing:plans")).text
    assert "Create account" not in text and "Sign out" in text
    assert "Create account" in visitor.get(reverse("billing:plans")).text


def test_the_consent_banner_sends_back_to_the_page_it_was_on(client, db):
    client.get(reverse("billing:plans"))

    text = client.get(reverse("core:home")).text

    assert '<input type="hidden" name="next" value="/">' in text


def test_a_hostile_product_name_is_escaped_in_the_kept_price_list(client, db):
    plan = ProductFactory(name="<script>alert(1)</script>", slug="x", category="shared")
    PriceFactory(product=plan, cycle="monthly", amount=500)

    client.get(reverse("billing:plans"))
    text = client.get(reverse("billing:plans")).text

    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_price_list_is_kept_per_cycle_and_currency(client, db):
    plan = ProductFactory(name="Starter hosting", slug="starter", category="shared")
    PriceFactory(product=plan, cycle="monthly", amount=500)
    PriceFactory(product=plan, cycle="yearly", amount=5000)

    monthly = client.get(reverse("billing:plans"), {"cycle": "monthly"}).text
    yearly = client.get(reverse("billing:plans"), {"cycle": "yearly"}).text

    assert '<span class="price__amount">€5.00</span>' in monthly
    assert '<span class="price__amount">€50.00</span>' in yearly


def test_the_account_menu_marks_the_page_being_shown(alice_client):
    for name in ["accounts:profile", "usersessions_list", "accounts:profile"]:
        text = alice_client.get(reverse(name)).text
        nav = text[text.index('aria-label="Account"') :]
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)[0]
        assert current == reverse(name)
