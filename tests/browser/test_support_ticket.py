"""A customer opens a ticket with a file in the browser, on a 390 px wide phone screen."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from support.models import Attachment, Department, Ticket
from tests.factories import TEST_PASSWORD
from tests.helpers import PDF_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def departments(transactional_db) -> None:
    """The transactional database lost the seeded departments: seed them again."""
    import importlib

    from django.apps import apps

    importlib.import_module("support.migrations.0002_seed_departments").seed(apps, None)


@pytest.fixture
def phone_page(new_page):
    return new_page(viewport={"width": 390, "height": 844})


def test_a_customer_opens_a_ticket_with_a_file_on_a_phone(phone_page, alice, departments, tmp_path):
    page = phone_page
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_role("link", name="Support").first.click()
    expect(page.get_by_text("You have no open tickets.")).to_be_visible()
    page.get_by_role("link", name="Open a ticket").first.click()

    page.get_by_label("Department").select_option(label="Billing")
    page.get_by_label("Subject").fill("Invoice shows the wrong address")
    page.get_by_label("Message").fill("The invoice still has my old street.")
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(PDF_BYTES)
    page.get_by_label("Attachments").set_input_files(str(invoice))
    # Nothing on the form is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Open ticket").click()

    expect(
        page.get_by_role("heading", name=re.compile("Invoice shows the wrong address"))
    ).to_be_visible()
    expect(page.get_by_role("link", name="invoice.pdf")).to_be_visible()
    ticket = Ticket.objects.get(user=alice)
    assert ticket.department == Department.objects.get(slug="billing")
    assert Attachment.objects.get(message__ticket=ticket).filename == "invoice.pdf"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name="All tickets").click()
    expect(
        page.get_by_role("link", name=re.compile("Invoice shows the wrong address"))
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
