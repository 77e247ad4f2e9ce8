"""The admin start page is the staff overview: the business on one page."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Service,
    ServiceStatus,
)
from billing.services.orders import CartLine, order_place
from notifications.models import Channel, OutboxMessage, Status
from tests.factories import PriceFactory, ProductFactory, UserFactory


@pytest.fixture
def products(db):
    monthly = ProductFactory(name="Monthly plan")
    PriceFactory(product=monthly, currency="EUR", cycle="monthly", amount=1000)
    PriceFactory(product=monthly, currency="USD", cycle="monthly", amount=1500)
    yearly = ProductFactory(name="Yearly plan")
    PriceFactory(product=yearly, currency="EUR", cycle="yearly", amount=12000)
    return monthly, yearly


def _order(user, product, cycle="monthly", currency="EUR"):
    return order_place(
        user=user, lines=[CartLine(product_id=product.pk, cycle=cycle)], currency=currency
    )


def _seed(products, scale: int = 1) -> None:
    """Per unit of `scale`: three active services (MRR €30.00 and $15.00), one invoice
    paid this month (€10.00), one overdue (€10.00), one unpaid ($15.00), two orders
    waiting (those two), one failed payment, one renewal due in 3 days, one failed email."""
    monthly, yearly = products
    today = timezone.localdate()
    now = timezone.now()
    for _ in range(scale):
        user = UserFactory(country="US")  # no tax rate: totals equal prices
        paid = _order(user, monthly).invoices.get()
        Invoice.objects.filter(pk=paid.pk).update(status=InvoiceStatus.PAID, paid_at=now)
        yearly_invoice = _order(user, yearly, cycle="yearly").invoices.get()
        Invoice.objects.filter(pk=yearly_invoice.pk).update(
            status=InvoiceStatus.PAID, paid_at=now - dt.timedelta(days=400)
        )
        _order(user, monthly, currency="USD")
        Order.objects.filter(pk__in=[paid.order_id, yearly_invoice.order_id]).update(
            status=OrderStatus.PAID
        )
        Service.objects.filter(user=user).update(
            status=ServiceStatus.ACTIVE, next_due_date=today + dt.timedelta(days=30)
        )
        Service.objects.filter(order=paid.order).update(next_due_date=today + dt.timedelta(days=3))
        overdue = _order(user, monthly)
        Invoice.objects.filter(order=overdue).update(status=InvoiceStatus.OVERDUE)
        Service.objects.filter(order=overdue).update(status=ServiceStatus.CANCELLED)
        Payment.objects.create(
            invoice=overdue.invoices.get(),
            attempt=1,
            amount=1000,
            currency="EUR",
            status=PaymentStatus.FAILED,
        )
        OutboxMessage.objects.create(
            channel=Channel.EMAIL,
            kind="welcome",
            recipient=user.email,
            body_text="Hi",
            status=Status.FAILED,
            failed_at=now,
        )


def _figure(text: str, name: str) -> str:
    marker = f'data-figure="{name}">'
    start = text.index(marker) + len(marker)
    return text[start : text.index("<", start)]


def test_the_overview_shows_the_business_figures_of_a_seeded_data_set(client, charlie, products):
    _seed(products)
    client.force_login(charlie)

    response = client.get(reverse("admin:index"))

    text = response.text
    assert response.status_code == 200
    # MRR: €10.00 monthly + €120.00 yearly / 12 = €20.00; $15.00 monthly.
    assert "€20.00<br>$15.00" in text
    assert _figure(text, "overdue-count") == "1"
    assert "€10.00</small>" in text  # the overdue total
    # Unpaid per currency: the overdue €10.00 and the unpaid USD invoice.
    assert "€10.00<br>$15.00" in text
    assert _figure(text, "orders-waiting") == "2"  # the USD order and the overdue one
    assert _figure(text, "failed-payments") == "1"
    assert _figure(text, "renewals") == "1"
    assert _figure(text, "failed-messages") == "1"
    this_month = f"{timezone.localdate():%b %Y}"
    assert f'<td>{this_month}</td><td class="money">€10.00</td>' in text
    # The yearly invoice paid 400 days ago is outside the 12 months.
    assert "€120.00" not in text
    assert "<svg" in text and 'class="bar"' in text


class _Addresses(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "poster", "data") and value:
                self.found.append(value.strip())
            elif name == "srcset" and value:
                self.found += [part.split()[0] for part in value.split(",") if part.strip()]


def _addresses(html: str) -> list[str]:
    parser = _Addresses()
    parser.feed(html)
    return parser.found


def test_the_overview_loads_nothing_from_another_site(client, charlie, products):
    _seed(products)
    client.force_login(charlie)

    text = client.get(reverse("admin:index")).text

    assert "https://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # Every address the page loads or links to is on this site: no scheme, no host (a
    # scheme-relative "//cdn.example/x.js" included). The page's random CSRF token may
    # spell anything, so the addresses are read from the markup, not searched for in it.
    addresses = _addresses(text)
    assert addresses
    assert [a for a in addresses if a.startswith("//") or ":" in a.split("/")[0]] == []


def test_the_overview_runs_a_fixed_number_of_queries(
    client, charlie, products, django_assert_num_queries
):
    _seed(products)
    client.force_login(charlie)
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:index"))

    _seed(products, scale=6)

    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("admin:index"))


def test_customers_do_not_see_the_overview(alice_client):
    response = alice_client.get(reverse("admin:index"))

    assert response.status_code == 302


def test_revenue_per_month_is_a_series_per_currency(client, charlie, products):
    """Paid: €10.00 and $15.00 this month, $15.00 two months ago; the other months nothing."""
    monthly, _ = products
    user = UserFactory(country="US")
    now = timezone.now()
    two_months_ago = timezone.localdate().replace(day=1) - dt.timedelta(days=40)
    paid_at = [
        ("EUR", now),
        ("USD", now),
        ("USD", dt.datetime.combine(two_months_ago, dt.time(12), tzinfo=dt.UTC)),
    ]
    for currency, when in paid_at:
        invoice = _order(user, monthly, currency=currency).invoices.get()
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAID, paid_at=when)
    client.force_login(charlie)

    text = client.get(reverse("admin:index")).text

    this_month = f"{timezone.localdate():%b %Y}"
    then = f"{two_months_ago:%b %Y}"
    assert '<th scope="col">Revenue (EUR)</th><th scope="col">Revenue (USD)</th>' in text
    assert (
        f'<td>{this_month}</td><td class="money">€10.00</td><td class="money">$15.00</td>' in text
    )
    assert f'<td>{then}</td><td class="money">€0.00</td><td class="money">$15.00</td>' in text
    assert "Revenue per month, last 12 months (EUR, paid invoices)" in text
    assert "Revenue per month, last 12 months (USD, paid invoices)" in text
    assert text.count('<rect class="bar"') == 24
