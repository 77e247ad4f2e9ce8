"""Client area: the customer's orders, each with its items, services and invoice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Order
from billing.services.orders import CartLine, order_place


def test_the_order_list_shows_each_order_with_its_items_invoice_and_total(
    alice_client, alice_invoice
):
    response = alice_client.get(reverse("billing:orders"))

    text = response.text
    assert f"Order {alice_invoice.order_id}" in text
    assert "Starter hosting" in text
    assert alice_invoice.number in text
    assert "€6.00" in text
    assert "Awaiting payment" in text


def test_the_order_page_shows_items_services_invoice_and_status(alice_client, alice_invoice):
    response = alice_client.get(reverse("billing:order_detail", args=[alice_invoice.order_id]))

    text = response.text
    assert response.status_code == 200
    assert "Starter hosting" in text
    assert "Monthly" in text
    assert "€5.00" in text  # the service's price per cycle
    assert "Pending payment" in text  # the service it made
    assert reverse("billing:invoice_detail", args=[alice_invoice.pk]) in text
    assert "Awaiting payment" in text


def test_orders_are_in_the_client_area_menu(alice_client):
    response = alice_client.get(reverse("core:dashboard"))

    assert f'href="{reverse("billing:orders")}"' in response.text


def test_another_customer_gets_404_on_an_order(client, bob, alice_invoice):
    client.force_login(bob)

    response = client.get(reverse("billing:order_detail", args=[alice_invoice.order_id]))

    assert response.status_code == 404
    assert alice_invoice.number not in client.get(reverse("billing:orders")).text


def test_staff_see_no_customer_orders_in_the_client_area(client, charlie, alice_invoice):
    client.force_login(charlie)

    response = client.get(reverse("billing:order_detail", args=[alice_invoice.order_id]))

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["billing:orders"])
def test_the_order_list_needs_sign_in(client, db, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def _orders(user, plan, count):
    for _ in range(count):
        order_place(
            user=user, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
        )


def test_the_order_list_query_count_does_not_grow_with_rows(
    alice_client, alice, plan, django_assert_num_queries
):
    _orders(alice, plan, 2)
    alice_client.get(reverse("billing:orders"))  # warm the session cache
    # count, page, services with products, invoices
    with django_assert_num_queries(4) as few:
        alice_client.get(reverse("billing:orders"))
    _orders(alice, plan, 30)
    with django_assert_num_queries(len(few.captured_queries)):
        response = alice_client.get(reverse("billing:orders"))
    assert "Page 1 of 2" in response.text
    assert Order.objects.filter(user=alice).count() == 32


def test_the_order_page_query_count_does_not_grow_with_items(
    alice_client, alice, plan, django_assert_num_queries
):
    small = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    )
    big = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")] * 8, currency="EUR"
    )
    alice_client.get(reverse("billing:order_detail", args=[small.pk]))
    with django_assert_num_queries(3) as few:  # order, services with products, invoices
        alice_client.get(reverse("billing:order_detail", args=[small.pk]))
    with django_assert_num_queries(len(few.captured_queries)):
        alice_client.get(reverse("billing:order_detail", args=[big.pk]))
