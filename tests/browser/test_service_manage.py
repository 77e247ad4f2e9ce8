"""A customer upgrades and then cancels a hosted service from its page, in Chromium; the
panel is the generic module's fake on loopback, tasks run eagerly on commit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing.models import ChangeStatus, Invoice, Service, ServiceStatus
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from billing.services.orders import CartLine, order_place
from tests.factories import TEST_PASSWORD, PriceFactory, ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_upgrades_then_cancels_at_the_end_of_the_period(
    page, live_server, alice, fake_panel, generic_server
):
    small = ProductFactory(
        name="Cloud S",
        slug="cloud-s",
        group="cloud",
        server_group=generic_server.group,
        package="cloud-s",
    )
    large = ProductFactory(
        name="Cloud L",
        slug="cloud-l",
        group="cloud",
        server_group=generic_server.group,
        package="cloud-l",
        sort_order=2,
    )
    PriceFactory(product=small, amount=1000)
    PriceFactory(product=large, amount=3000)
    order = order_place(
        user=alice, lines=[CartLine(product_id=small.pk, cycle="monthly")], currency="EUR"
    )
    invoice_mark_paid_outside_stripe(invoice=order.invoices.get())
    service = Service.objects.get(order=order)
    assert service.status == ServiceStatus.ACTIVE  # set up on the fake panel on commit

    page.goto("/accounts/login/")
    page.fill('input[name="login"]', alice.email)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.goto("/billing/services/")
    page.get_by_role("link", name="Cloud S").click()
    expect(page.get_by_role("heading", name="Cloud S", exact=True)).to_be_visible()
    expect(page.locator("#service-status")).to_have_text("Active")

    page.get_by_role("button", name="Switch to Cloud L").click()
    expect(page.get_by_text("Pay this invoice and Cloud L replaces your plan.")).to_be_visible()
    change = service.changes.get()
    assert change.status == ChangeStatus.AWAITING_PAYMENT and change.charge == 2000
    invoice_mark_paid_outside_stripe(invoice=Invoice.objects.get(service_changes=change))
    assert fake_panel.accounts[f"service-{service.pk}"]["package"] == "cloud-l"

    page.goto(f"/billing/services/{service.pk}/")
    expect(page.get_by_role("heading", name="Cloud L", exact=True)).to_be_visible()
    page.get_by_label("At the end of the paid period").check()
    page.get_by_label(re.compile("I understand")).check()
    page.get_by_role("button", name="Cancel this service").click()

    service.refresh_from_db()
    expect(page.locator("#cancel-notice")).to_have_text(
        f"Ends on {service.next_due_date:%-d %b %Y}"
    )
    assert service.cancel_at == service.next_due_date
    assert service.status == ServiceStatus.ACTIVE
    expect(page.get_by_role("button", name="Cancel this service")).to_have_count(0)
