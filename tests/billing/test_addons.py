"""Add-ons belong to the plans they are sold with and are never bought alone: not from
the plans page, not by a POST crafted by hand, not by removing the plan from the cart,
not at checkout."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Invoice, Order, Service, ServiceStatus
from billing.services.orders import CartLine, order_place
from core.exceptions import ApplicationError
from tests.factories import PriceFactory, ProductFactory


@pytest.fixture
def backups(plan):
    addon = ProductFactory(name="Extra backups", slug="backups", kind="addon")
    addon.addon_for.set([plan])
    PriceFactory(product=addon, currency="EUR", cycle="monthly", amount=299)
    return addon


@pytest.fixture
def vps(db):
    product = ProductFactory(name="VPS 2 GB", slug="vps-2", category="vps")
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=2000)
    return product


def _add(client, product, cycle="monthly", addons=(), follow=True):
    data = {"product": product.pk, "cycle": cycle, "addons": [a.pk for a in addons]}
    return client.post(reverse("billing:cart_add"), data, follow=follow)


def _cart(client) -> list[int]:
    return [line["product"] for line in client.session.get("billing_cart", [])]


def test_a_plan_goes_in_the_cart_with_the_add_ons_ticked_on_its_card(client, plan, backups):
    response = _add(client, plan, addons=[backups])

    assert _cart(client) == [plan.pk, backups.pk]
    assert "Starter hosting and Extra backups are in your cart." in response.text


def test_a_hand_made_post_of_an_add_on_alone_is_refused_with_a_reason(client, plan, backups):
    response = _add(client, backups)

    assert response.status_code == 200
    assert "Extra backups is sold only with Starter hosting: add the plan to your cart first." in (
        response.text
    )
    assert _cart(client) == []


def test_an_add_on_ticked_with_a_plan_it_is_not_sold_with_is_refused(client, backups, vps):
    response = _add(client, vps, addons=[backups])

    assert "Extra backups is not sold with VPS 2 GB." in response.text
    assert _cart(client) == []


def test_an_add_on_joins_its_plan_already_in_the_cart(client, plan, backups):
    _add(client, plan)

    _add(client, backups)

    assert _cart(client) == [plan.pk, backups.pk]


def _owns(user, plan, status):
    order = order_place(
        user=user, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    )
    order.services.update(status=status)


def test_a_customer_who_has_the_plan_may_add_its_add_on_alone(alice_client, alice, plan, backups):
    _owns(alice, plan, ServiceStatus.ACTIVE)

    _add(alice_client, backups)

    assert _cart(alice_client) == [backups.pk]


def test_a_cancelled_plan_does_not_count(alice_client, alice, plan, backups):
    _owns(alice, plan, ServiceStatus.CANCELLED)

    response = _add(alice_client, backups)

    assert "sold only with Starter hosting" in response.text
    assert _cart(alice_client) == []


def test_removing_the_plan_takes_its_add_ons_out_and_says_so(client, plan, backups):
    _add(client, plan, addons=[backups])

    response = client.post(reverse("billing:cart_remove", args=[0]), follow=True)

    assert _cart(client) == []
    assert "Extra backups was removed too: it is sold only with Starter hosting." in response.text


def test_removing_an_add_on_keeps_the_plan(client, plan, backups):
    _add(client, plan, addons=[backups])

    client.post(reverse("billing:cart_remove", args=[1]))

    assert _cart(client) == [plan.pk]


def test_checkout_refuses_an_add_on_left_alone_and_charges_nothing(alice_client, plan, backups):
    session = alice_client.session
    session["billing_cart"] = [{"product": backups.pk, "cycle": "monthly"}]
    session.save()

    cart = alice_client.get(reverse("billing:cart"))
    response = alice_client.post(reverse("billing:checkout"), follow=True)

    assert "Extra backups is sold only with Starter hosting" in cart.text
    assert response.status_code == 200
    assert "Extra backups is sold only with Starter hosting" in response.text
    assert not Order.objects.exists()
    assert not Invoice.objects.exists()


def test_checkout_with_the_plan_bills_both(alice_client, alice, plan, backups, uk_vat):
    _add(alice_client, plan, addons=[backups])

    alice_client.post(reverse("billing:checkout"))

    invoice = Invoice.objects.get(user=alice)
    assert invoice.subtotal == 500 + 299
    assert sorted(s.product.slug for s in Service.objects.filter(user=alice)) == [
        "backups",
        "starter",
    ]


def test_the_order_service_refuses_an_add_on_without_its_plan(alice, backups):
    with pytest.raises(ApplicationError, match="sold only with Starter hosting"):
        order_place(
            user=alice, lines=[CartLine(product_id=backups.pk, cycle="monthly")], currency="EUR"
        )


def test_staff_see_and_filter_plans_by_kind_of_hosting(client, charlie, plan, vps):
    client.force_login(charlie)

    text = client.get(reverse("admin:billing_product_changelist"), {"category": "vps"}).text

    assert "VPS 2 GB" in text
    assert "Starter hosting" not in text


def test_staff_cannot_sell_a_plan_with_another_plan(plan, vps):
    from billing.admin.catalogue import ProductForm

    form = ProductForm(
        {
            "name": "VPS 2 GB",
            "slug": "vps-2",
            "kind": "plan",
            "category": "vps",
            "sort_order": 0,
            "module_options": "{}",
            "addon_for": [plan.pk],
            "is_active": "on",
        },
        instance=vps,
    )

    assert not form.is_valid()
    assert form.errors["addon_for"] == ["Only add-ons are sold with plans."]
