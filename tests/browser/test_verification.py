"""In Chromium: a first payment with a card without 3-D Secure is held, the customer
sends both pictures, staff (signed in through allauth) review them side by side and
approve, and the held invoice is paid. Stripe answers through the injected HTTP client
(localstripe cannot say "no 3-D Secure"); the live server runs in this process."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing.models import BillingAccount, InvoiceStatus
from billing.services.cards import card_setup_complete
from billing.services.orders import CartLine, order_place
from billing.services.scheduled_charges import verification_holds_settle
from tests import stripe_fixtures
from tests.factories import TEST_PASSWORD, PriceFactory, ProductFactory
from tests.verification import files, stripe_shapes
from tests.verification.stripe_shapes import FakeStripe
from verification.models import CaseStatus, DocumentAccess

fake_stripe = stripe_fixtures.fake_stripe  # the fixture this module uses

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    storages = {key: dict(value) for key, value in settings.STORAGES.items()}
    storages["verification"] = {
        "BACKEND": "verification.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "private")},
    }
    settings.STORAGES = storages


def sign_in(page, email: str, next_url: str) -> None:
    page.goto(next_url)
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()


def test_a_held_payment_is_verified_by_staff_then_charged(
    new_page,
    fake_stripe,
    alice,
    charlie,
    tmp_path,
):
    BillingAccount.objects.create(user=alice, stripe_customer_id=stripe_shapes.CUSTOMER)
    stripe = FakeStripe(
        fake_stripe,
        pm_no3ds=stripe_shapes.payment_method("pm_no3ds", supported=False, fingerprint="fpA"),
    )
    card_setup_complete(user=alice, setup_intent_id="seti_pm_no3ds")
    plan = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=plan, currency="EUR", cycle="monthly", amount=500)
    invoice = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()
    card_file, id_file = tmp_path / "card.jpg", tmp_path / "passport.png"
    card_file.write_bytes(files.jpeg_with_gps())
    id_file.write_bytes(files.png())

    customer = new_page()
    sign_in(customer, alice.email, f"/billing/invoices/{invoice.pk}/")
    customer.get_by_role("button", name="Pay now").click()
    expect(customer.get_by_role("heading", name="Verify Amex •••• 0005")).to_be_visible()
    expect(customer.get_by_text("Waiting for your pictures")).to_be_visible()
    expect(
        customer.get_by_text("You may cover the middle digits of the card number")
    ).to_be_visible()
    assert stripe.charges == []
    customer.get_by_label("Picture of the card").set_input_files(str(card_file))
    customer.get_by_label("Picture of your government ID").set_input_files(str(id_file))
    customer.get_by_role("button", name="Send the pictures").click()
    expect(customer.get_by_text("Thank you: your pictures are sent for review.")).to_be_visible()
    expect(customer.get_by_text("Under review", exact=True)).to_be_visible()

    staff = new_page()
    sign_in(staff, charlie.email, "/admin/")
    staff.get_by_role("link", name="Review queue").click()
    expect(staff.get_by_text("Alice Archer <alice@example.com>")).to_be_visible()
    staff.get_by_role("link", name=re.compile(r"Verification #\d+")).click()
    card_image = staff.get_by_role("img", name="Picture of the card")
    id_image = staff.get_by_role("img", name="Government ID")
    expect(card_image).to_be_visible()
    expect(id_image).to_be_visible()
    # Both pictures decrypted and drawn (a broken image has no natural width).
    staff.wait_for_function(
        "() => [...document.querySelectorAll('.verification-documents img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    card_box, id_box = card_image.bounding_box(), id_image.bounding_box()
    assert abs(card_box["y"] - id_box["y"]) < 5 and card_box["x"] != id_box["x"]  # side by side
    assert DocumentAccess.objects.filter(viewed_by=charlie).count() == 2
    staff.get_by_role("button", name="Approve").click()
    expect(staff.get_by_text("is approved; the held invoice is charged next.")).to_be_visible()

    assert verification_holds_settle() == 1  # the beat task's run
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.user.verification_cases.get().status == CaseStatus.APPROVED
    customer.goto(f"/billing/invoices/{invoice.pk}/")
    expect(customer.get_by_text("Paid", exact=True).first).to_be_visible()
    customer.goto("/verification/")
    expect(customer.get_by_text("Approved", exact=True)).to_be_visible()
