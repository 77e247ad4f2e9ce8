"""A customer buys a plan through the cart, saves a card and pays, in Chromium,
against localstripe's Stripe.js stand-in: no network beyond loopback."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from billing.models import Invoice, InvoiceStatus, PaymentMethod, StripeEvent
from tests import stripe_fixtures
from tests.factories import TEST_PASSWORD, PriceFactory, ProductFactory
from tests.stripe_fixtures import localstripe_register_webhook

# The fixtures this module uses (pytest finds fixtures by module attribute).
localstripe_url = stripe_fixtures.localstripe_url
localstripe = stripe_fixtures.localstripe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_buys_a_plan_saves_a_card_and_pays(page, live_server, localstripe, alice):
    localstripe_register_webhook(localstripe, f"{live_server.url}/billing/stripe/webhook/")
    plan = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=plan, currency="EUR", cycle="monthly", amount=499)

    page.goto("/plans/")
    page.get_by_role("button", name="Add Starter hosting to cart").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    page.get_by_role("link", name="sign in", exact=True).click()
    page.fill('input[name="login"]', alice.email)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    page.get_by_role("button", name="Place order").click()

    invoice = Invoice.objects.get(user=alice)
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
    page.get_by_role("link", name="Add a card").click()

    # localstripe's Card Element: five plain inputs told apart by their placeholders;
    # it prefixes the two-digit year with "20".
    card = page.locator("#card-element")
    card.locator('input[placeholder="number"]').fill("4242424242424242")
    card.locator('input[placeholder="exp_month"]').fill("12")
    card.locator('input[placeholder="exp_year"]').fill("34")
    card.locator('input[placeholder="cvc"]').fill("123")
    card.locator('input[placeholder="postal_code"]').fill("NW1 6XE")
    page.get_by_role("button", name="Save card").click()

    expect(page.get_by_text("Visa •••• 4242 is saved.")).to_be_visible()
    saved = PaymentMethod.objects.get(user=alice)
    assert (saved.last4, saved.exp_year) == ("4242", 2034)
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text(f"Thank you: invoice {invoice.number} is paid.")).to_be_visible()

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    # Stripe's (here localstripe's) signed webhook arrives too and is applied once, as a no-op.
    deadline = time.monotonic() + 15
    while not StripeEvent.objects.filter(
        type="payment_intent.succeeded", processed_at__isnull=False
    ).exists():
        assert time.monotonic() < deadline, "the payment_intent.succeeded webhook never came"
        time.sleep(0.1)
    assert invoice.payments.get().status == "succeeded"

    page.goto("/billing/services/")
    expect(page.get_by_text("Active")).to_be_visible()
    with page.expect_download() as download:
        page.goto(f"/billing/invoices/{invoice.pk}/")
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{invoice.number}.pdf"


def test_a_payment_the_bank_wants_confirmed_is_authenticated_in_the_page(
    page, live_server, localstripe, alice
):
    from billing.services.orders import CartLine, order_place

    plan = ProductFactory(name="Business hosting", slug="business")
    PriceFactory(product=plan, currency="EUR", cycle="yearly", amount=12990)
    order = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="yearly")], currency="EUR"
    )
    invoice = order.invoices.get()
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', alice.email)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.goto(f"/billing/cards/add/?next=/billing/invoices/{invoice.pk}/")
    card = page.locator("#card-element")
    card.locator('input[placeholder="number"]').fill("4000002760003184")
    card.locator('input[placeholder="exp_month"]').fill("12")
    card.locator('input[placeholder="exp_year"]').fill("34")
    card.locator('input[placeholder="cvc"]').fill("123")
    card.locator('input[placeholder="postal_code"]').fill("10115")
    page.get_by_role("button", name="Save card").click()
    page.get_by_role("button", name="Complete authentication").click()  # 3-D Secure at setup
    expect(page.get_by_text("is saved.")).to_be_visible()

    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("Your bank asks you to confirm this payment.")).to_be_visible()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text(f"Thank you: invoice {invoice.number} is paid.")).to_be_visible()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
