"""Billing's panel on the client-area dashboard."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice
from billing.services.invoices import invoice_mark_paid
from billing.services.orders import CartLine, order_place
from tests.factories import PriceFactory, ProductFactory


def _order(user, product, currency: str = "EUR") -> Invoice:
    order = order_place(
        user=user,
        lines=[CartLine(product_id=product.pk, cycle="monthly")],
        currency=currency,
    )
    return order.invoices.get()


def test_a_new_customer_is_pointed_to_the_plans(alice_client):
    html = alice_client.get(reverse("core:dashboard")).text

    assert "0 active services" in html
    assert "No invoice is waiting for payment" in html
    assert reverse("billing:plans") in html


def test_it_shows_what_is_due_with_its_total_and_first_due_date(alice_client, alice, plan, uk_vat):
    invoice = _order(alice, plan)

    html = alice_client.get(reverse("core:dashboard")).text

    assert "1 invoice, €6.00" in html
    assert invoice.due_date.strftime("%-d %b %Y") in html
    assert "1 waiting for payment" in html


def test_it_shows_nothing_of_another_customers_invoices(alice_client, bob, plan, uk_vat):
    _order(bob, plan)

    html = alice_client.get(reverse("core:dashboard")).text

    assert "No invoice is waiting for payment" in html
    assert "waiting for payment</" not in html.replace("No invoice is waiting for payment", "")


def test_it_recommends_what_the_customer_lacks_unless_processing_is_restricted(
    alice_client, alice, plan, uk_vat
):
    domain = ProductFactory(name="Dot-com domain", slug="com", kind="domain")
    PriceFactory(product=domain, currency="EUR", cycle="yearly", amount=1299)
    invoice_mark_paid(invoice=_order(alice, plan))

    assert "Dot-com domain" in alice_client.get(reverse("core:dashboard")).text

    alice.processing_restricted_at = timezone.now()
    alice.save(update_fields=["processing_restricted_at"])

    assert "Dot-com domain" not in alice_client.get(reverse("core:dashboard")).text


def test_the_dashboard_query_count_does_not_grow_with_invoices(alice_client, alice, plan, uk_vat):
    _order(alice, plan)
    alice_client.get(reverse("core:dashboard"))
    with CaptureQueriesContext(connection) as one:
        alice_client.get(reverse("core:dashboard"))
    for _ in range(10):
        _order(alice, plan)

    with CaptureQueriesContext(connection) as eleven:
        alice_client.get(reverse("core:dashboard"))

    assert len(eleven) == len(one)
