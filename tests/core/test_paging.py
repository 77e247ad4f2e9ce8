"""core.paging.page_of gives the page Django's Paginator.get_page gives, in one query."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice
from core.paging import TOTAL, page_of
from tests.factories import InvoiceFactory


@pytest.fixture
def invoices(alice):
    InvoiceFactory.create_batch(7, user=alice)
    return Invoice.objects.filter(user=alice).order_by("pk")


@pytest.mark.parametrize("number", [None, "", "1", "2", "3", "4", "99", "0", "-1", "x", "2.0"])
def test_it_shows_the_page_paginator_shows(invoices, number):
    ours = page_of(invoices.values("pk", "number"), number, 3)
    django = Paginator(invoices.values("pk", "number"), 3).get_page(number)

    assert ours.number == django.number
    assert ours.paginator.num_pages == django.paginator.num_pages
    assert ours.paginator.count == 7
    assert [row["pk"] for row in ours] == [row["pk"] for row in django]
    assert (ours.has_next(), ours.has_previous()) == (django.has_next(), django.has_previous())


def test_a_page_in_range_is_one_query_with_the_count_of_all_rows(invoices):
    with CaptureQueriesContext(connection) as queries:
        page = page_of(invoices, "2", 3)
        assert page.paginator.num_pages == 3
        assert page.has_next()

    assert len(queries) == 1
    assert [getattr(invoice, TOTAL) for invoice in page] == [7, 7, 7]


def test_an_empty_list_is_one_page_with_no_rows(alice):
    with CaptureQueriesContext(connection) as queries:
        page = page_of(Invoice.objects.filter(user=alice).order_by("pk"), None, 3)

    assert (page.number, page.paginator.num_pages, list(page)) == (1, 1, [])
    assert len(queries) == 1
