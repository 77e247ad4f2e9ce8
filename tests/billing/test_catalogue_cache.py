"""The catalogue kept in each worker's memory (billing.catalogue): read once per change,
and a staff edit shows on the next page."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from billing.catalogue import VERSION_KEY
from billing.models import Price
from tests.factories import PriceFactory, ProductFactory, TaxRateFactory
from tests.helpers import product_admin_form


@pytest.fixture
def plan(db):
    plan = ProductFactory(name="Starter hosting", slug="starter", category="shared")
    PriceFactory(product=plan, cycle="monthly", amount=500)
    return plan


@pytest.fixture
def staff(charlie):
    client = Client()
    client.force_login(charlie)
    return client


def test_it_reads_the_catalogue_once_and_then_not_again(client, plan, django_assert_num_queries):
    client.get(reverse("billing:plans"))

    with django_assert_num_queries(0):
        text = client.get(reverse("billing:plans")).text

    assert "Starter hosting" in text


def test_a_price_staff_change_in_the_admin_shows_on_the_next_page(client, staff, plan):
    assert "€5.00" in client.get(reverse("billing:plans")).text

    response = staff.post(
        reverse("admin:billing_product_change", args=[plan.pk]),
        product_admin_form(plan, **{"prices-0-amount": "7.50", "name": "Starter plus"}),
    )

    assert response.status_code == 302
    text = client.get(reverse("billing:plans")).text
    assert "€7.50" in text and "€5.00" not in text
    assert "Starter plus" in text


def test_a_product_staff_delete_or_take_off_sale_leaves_the_page(client, plan):
    other = ProductFactory(name="Business hosting", slug="business", category="shared")
    PriceFactory(product=other, cycle="monthly", amount=900)
    assert "Business hosting" in client.get(reverse("billing:plans")).text

    other.delete()
    plan.is_active = False
    plan.save()

    text = client.get(reverse("billing:plans")).text
    assert "Business hosting" not in text and "Starter hosting" not in text


def test_a_price_deleted_or_an_add_on_sold_with_a_plan_shows_at_once(client, plan):
    addon = ProductFactory(name="Extra backups", slug="backups", kind="addon")
    PriceFactory(product=addon, cycle="monthly", amount=299)
    yearly = PriceFactory(product=plan, cycle="yearly", amount=5000)
    assert "Tick them on a plan above" not in client.get(reverse("billing:plans")).text

    addon.addon_for.set([plan])
    Price.objects.filter(pk=yearly.pk).delete()

    text = client.get(reverse("billing:plans")).text
    assert "Tick them on a plan above" in text
    assert "€50.00" not in text


def test_a_tax_rate_change_shows_at_once(alice, plan):
    alice.country = "GB"
    alice.save()
    rate = TaxRateFactory(country="GB", rate="20.00")
    client = Client()
    client.force_login(alice)
    assert "€6.00 with VAT" in client.get(reverse("billing:plans")).text

    rate.rate = "10.00"
    rate.save()

    assert "€5.50 with VAT" in client.get(reverse("billing:plans")).text


def test_a_change_writes_a_new_version_again_when_it_commits(
    plan, django_capture_on_commit_callbacks
):
    before = cache.get(VERSION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        plan.name = "Renamed"
        plan.save()
        during = cache.get(VERSION_KEY)

    assert before != during != cache.get(VERSION_KEY)


def test_a_cleared_cache_is_a_new_version(client, plan, django_assert_num_queries):
    client.get(reverse("billing:plans"))
    cache.delete(VERSION_KEY)

    with django_assert_num_queries(3):
        client.get(reverse("billing:plans"))
