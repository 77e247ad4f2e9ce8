"""Every client-area page makes the same few queries however many rows the customer has,
and an ordinary page view writes nothing (issue 15)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice
from billing.services.orders import CartLine, order_place
from support.models import Department
from support.services import ticket_open
from tests.factories import PriceFactory, ProductFactory, TaxRateFactory

WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN", "SAVEPOINT")

# page -> most queries it may make (the session and the customer come from the cache)
PAGES = {
    # services by status and product, invoices due, the sign-in summary, open tickets
    # (the catalogue behind the suggestions is kept in memory: billing.catalogue)
    "dashboard": 4,
    "services": 1,
    "invoices": 1,  # the page of rows carries the count (core.paging)
    "invoice": 2,  # the invoice with its extras, its lines (billing.documents)
    "profile": 1,
    "plans": 1,  # what the customer has; the catalogue is kept in memory
    "sessions": 2,
    "tickets": 1,  # the page of rows carries the count (core.paging)
}


@pytest.fixture
def plan(db):
    TaxRateFactory(country="GB", rate="20.00", is_eu=False)
    product = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=500)
    return product


def _grow(user, plan, count: int) -> None:
    """count more orders (invoice + service each), email addresses, sessions and open
    tickets."""
    department = Department.objects.get(slug="support")
    for n in range(count):
        ticket_open(user=user, department=department, subject=f"Question {n}", body="Hello")
        order_place(
            user=user,
            lines=[CartLine(product_id=plan.pk, cycle="monthly")],
            currency="EUR",
        )
        EmailAddress.objects.create(user=user, email=f"{user.pk}-{n}-{count}@example.com")
        UserSession.objects.create(
            user=user, ip="198.51.100.1", user_agent="Firefox", session_key=f"s{n}-{count}"
        )
    # The invoice page: one invoice with many lines.
    order_place(
        user=user,
        lines=[CartLine(product_id=plan.pk, cycle="monthly")] * count,
        currency="EUR",
    )


def _url(page: str, user) -> str:
    if page == "invoice":
        latest = Invoice.objects.filter(user=user).order_by("-pk").first()
        return reverse("billing:invoice_detail", args=[latest.pk])
    return {
        "dashboard": reverse("core:dashboard"),
        "services": reverse("billing:services"),
        "invoices": reverse("billing:invoices"),
        "profile": reverse("accounts:profile"),
        "plans": reverse("billing:plans"),
        "sessions": reverse("usersessions_list"),
        "tickets": reverse("support:tickets"),
    }[page]


def _queries(browser: Client, url: str) -> list[str]:
    browser.get(url)  # the first view after a change reads the customer afresh
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_the_client_pages_make_the_same_few_queries_with_few_or_many_rows(
    client, alice, plan, subtests
):
    """All the pages read the same customer's rows, so they share them: the rows are made
    once (the services that place orders and open tickets are most of this test's cost)
    and each page is measured after each growth, with a subtest (a report) of its own."""
    client.force_login(alice)
    _grow(alice, plan, 2)
    few = {page: _queries(client, _url(page, alice)) for page in PAGES}
    _grow(alice, plan, 25)
    many = {page: _queries(client, _url(page, alice)) for page in PAGES}

    for page, most in PAGES.items():
        with subtests.test(page=page):
            assert len(many[page]) == len(few[page]), "\n".join(many[page])
            assert len(few[page]) <= most, "\n".join(few[page])
            assert not [sql for sql in many[page] if sql.upper().startswith(WRITES)]
