"""Aggregated demographics: no group under k, directly or by subtraction; no identifiers."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse

from billing.models import Order, Product, ProductKind, Service
from privacy.reports import ALL, suppress
from tests.factories import UserFactory

K = 10


def _recoverable(figures):
    """Hidden figures an outsider can work out from the shown ones by subtraction."""
    groups: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}
    for month, country, plan in figures:
        if plan != ALL:
            groups.setdefault((month, country, ALL), []).append((month, country, plan))
        elif country != ALL:
            groups.setdefault((month, ALL, ALL), []).append((month, country, ALL))
    found = set()
    for parent, parts in groups.items():
        hidden = [p for p in parts if figures[p] is None]
        if figures[parent] is not None and len(hidden) == 1:
            found.add(hidden[0])
        if figures[parent] is None and parts and not hidden:
            found.add(parent)
    return found


def test_a_group_smaller_than_k_is_hidden():
    figures = suppress({("2026-11", "GB", "Starter"): 3, ("2026-11", "GB", "Pro"): 40}, K)

    assert figures[("2026-11", "GB", "Starter")] is None


def test_the_complement_is_hidden_so_the_small_group_cannot_be_recovered_by_subtraction():
    cells = {
        ("2026-11", "GB", "Starter"): 3,
        ("2026-11", "GB", "Pro"): 40,
        ("2026-11", "GB", "Business"): 25,
        ("2026-11", "DE", "Starter"): 50,
    }

    figures = suppress(cells, K)

    assert figures[("2026-11", "GB", "Starter")] is None
    # The subtotal stays; the next smallest cell goes with the small one.
    assert figures[("2026-11", "GB", ALL)] == 68
    assert figures[("2026-11", "GB", "Business")] is None
    assert figures[("2026-11", "GB", "Pro")] == 40
    assert figures[("2026-11", "DE", "Starter")] == 50
    assert _recoverable(figures) == set()


def test_two_small_groups_together_under_k_take_a_third_with_them():
    cells = {
        ("2026-11", "GB", "Starter"): 2,
        ("2026-11", "GB", "Pro"): 3,
        ("2026-11", "GB", "Business"): 30,
        ("2026-11", "GB", "Max"): 45,
    }

    figures = suppress(cells, K)

    hidden = [key for key, value in figures.items() if value is None]
    assert sum(cells[key] for key in hidden) >= K


def test_a_small_country_is_hidden_at_the_month_level_with_a_complement():
    cells = {
        ("2026-11", "IE", "Starter"): 4,
        ("2026-11", "GB", "Starter"): 30,
        ("2026-11", "DE", "Starter"): 60,
    }

    figures = suppress(cells, K)

    assert figures[("2026-11", "IE", ALL)] is None
    assert figures[("2026-11", "IE", "Starter")] is None
    assert figures[("2026-11", ALL, ALL)] == 94
    assert _recoverable(figures) == set()


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_figure_is_ever_recoverable_from_one_total(seed):
    import random

    rng = random.Random(seed)
    cells = {
        (month, country, plan): rng.choice([1, 2, 5, 9, 12, 30])
        for month, country, plan in itertools.product(
            ["2026-10", "2026-11"], ["GB", "DE", "IE"], ["Starter", "Pro"]
        )
        if rng.random() < 0.8
    }

    figures = suppress(cells, K)

    assert all(v is None or v == 0 or v >= K for v in figures.values())
    assert _recoverable(figures) == set()


@pytest.mark.django_db
def test_staff_download_the_csv_and_see_the_chart_with_no_identifiers(client, charlie, plan):
    order_user = UserFactory(email="one@example.com", country="GB", full_name="Only Customer")
    small = Product.objects.create(name="Tiny plan", slug="tiny", kind=ProductKind.PLAN)
    order = Order.objects.create(user=order_user, currency="EUR")
    Service.objects.create(
        user=order_user, order=order, product=small, cycle="monthly", currency="EUR", amount=1
    )
    for _ in range(K):
        user = UserFactory(country="DE")
        order = Order.objects.create(user=user, currency="EUR")
        Service.objects.create(
            user=user, order=order, product=plan, cycle="monthly", currency="EUR", amount=1
        )
    client.force_login(charlie)
    url = reverse("admin:privacy_demographics")

    page = client.get(url).content.decode()
    response = client.get(url, {"format": "csv"})

    csv_text = response.content.decode()
    assert response["Content-Type"] == "text/csv"
    # GB's one customer is hidden, and so is DE (else 11 - 10 would give GB away).
    assert ",(all),(all),11" in csv_text
    assert ",GB,Tiny plan,1\r" not in csv_text and ",GB,Tiny plan,<10 or hidden" in csv_text
    assert f",DE,{plan.name},<10 or hidden" in csv_text
    assert "<svg" in page and "hidden" in page
    for identifier in ["one@example.com", "Only Customer", "NW1 6XE"]:
        assert identifier not in csv_text and identifier not in page


@pytest.mark.django_db
def test_a_customer_cannot_open_the_report(alice_client):
    response = alice_client.get(reverse("admin:privacy_demographics"))

    assert response.status_code == 302
