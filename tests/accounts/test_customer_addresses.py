"""A customer's addresses on their admin page: the postal address and every email
address, each linked to where staff change it, paginated, in a constant number of
queries."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


@pytest.fixture
def staff(client, charlie):
    client.force_login(charlie)
    return client


def _page(staff, user, **params):
    return staff.get(reverse("admin:accounts_user_change", args=[user.pk]), params)


def _section(text: str) -> str:
    start = text.index('id="section-addresses"')
    return text[start : text.index("</section>", start)]


def _emails(user, count, start=0):
    for n in range(start, start + count):
        EmailAddress.objects.create(user=user, email=f"alice{n}@example.org", verified=n % 2 == 0)


def test_the_postal_and_email_addresses_are_listed_and_linked(staff, alice):
    alice.address_line1, alice.postcode, alice.city, alice.country = (
        "1 Market St",
        "D02 X285",
        "Dublin",
        "IE",
    )
    alice.save()
    primary = EmailAddress.objects.get(user=alice, primary=True)  # the factory's

    section = _section(_page(staff, alice).text)

    assert "Addresses (2)" in section
    assert "1 Market St, D02 X285 Dublin, Ireland" in section
    assert reverse("admin:accounts_user_change", args=[alice.pk]) + "#id_address_line1" in section
    assert reverse("admin:account_emailaddress_change", args=[primary.pk]) in section
    assert section.index("1 Market St") < section.index("alice@example.com")


def test_a_customer_without_a_postal_address_lists_only_emails(staff, alice):
    alice.address_line1 = alice.city = alice.postcode = ""
    alice.save()
    _emails(alice, 1)

    section = _section(_page(staff, alice).text)

    assert "Addresses (2)" in section  # the factory's primary email and one more
    assert "Postal" not in section


def test_addresses_are_paginated_on_their_own(staff, alice):
    _emails(alice, 12)

    first = _section(_page(staff, alice).text)
    second = _section(_page(staff, alice, **{"addresses-page": "2"}).text)

    assert "Addresses (14)" in first  # the postal address, the primary email and twelve
    assert "Page 1 of 2" in first and "addresses-page=2" in first
    assert "Page 2 of 2" in second
    assert "alice9@example.org" in second  # sorted by address after the primary


def test_the_address_list_costs_the_same_queries_however_many_addresses(
    staff, alice, django_assert_num_queries
):
    _emails(alice, 2)
    _page(staff, alice)
    with CaptureQueriesContext(connection) as few:
        _page(staff, alice)
    _emails(alice, 30, start=2)

    with django_assert_num_queries(len(few.captured_queries)):
        text = _page(staff, alice).text

    assert "Addresses (34)" in text
