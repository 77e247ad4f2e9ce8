"""billing.tables writes the invoice and service rows the row partials wrote (kept here
as the reference), escapes what came from the database, and links each row to its own
object, under a URL prefix too."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template import engines
from django.test.html import parse_html
from django.urls import clear_script_prefix, resolve, reverse, set_script_prefix
from django.utils.html import escape

from billing.models import BillingCycle, Invoice, InvoiceStatus, Order, Service, ServiceStatus
from billing.tables import INVOICE_COLUMNS, SERVICE_COLUMNS, invoice_rows, service_rows
from tests.factories import InvoiceFactory, ProductFactory

HOSTILE = "<script>alert(\"x\")</script> & 'Co'"
HOSTILE_NUMBER = '<b>"1"&\'</b>'  # invoice numbers are 20 characters at most

# The row partials of billing/invoices.html and billing/services.html before the rows
# moved to Python.
INVOICE_ROW = """{% load billing %}{% for row in rows %}
  <tr>
    <td data-label="Number"><a href="{% url 'billing:invoice_detail' row.pk %}">{{ row.number }}</a></td>
    <td data-label="Issued">{{ row.issued_on|date:"j M Y" }}</td>
    <td data-label="Due">{{ row.due_date|date:"j M Y" }}</td>
    <td data-label="Total">{{ row.total|money:row.currency }}</td>
    <td data-label="Status"><span class="badge {% if row.status == 'paid' %}badge--ok{% else %}badge--warn{% endif %}">{{ row.get_status_display }}</span></td>
  </tr>{% endfor %}"""  # noqa: E501
SERVICE_ROW = """{% load billing %}{% for row in rows %}
  <tr>
    <td data-label="Service"><a href="{% url 'billing:service_detail' row.pk %}">{{ row.product.name }}</a></td>
    <td data-label="Status"><span class="badge {% if row.status == 'active' %}badge--ok{% else %}badge--warn{% endif %}">{{ row.get_status_display }}</span></td>
    <td data-label="Price">{{ row.amount|money:row.currency }} {{ row.get_cycle_display|lower }}</td>
    <td data-label="Next due">{{ row.next_due_date|date:"j M Y"|default:"After payment" }}</td>
  </tr>{% endfor %}"""  # noqa: E501


def _template(source: str, rows: list[object]) -> str:
    return engines["django"].from_string(source).render({"rows": rows})


@pytest.fixture
def invoices(alice):
    made = [
        InvoiceFactory(
            user=alice,
            status=status,
            currency=currency,
            subtotal=total,
            tax_amount=0,
            total=total,
            number=number,
        )
        for status, currency, total, number in [
            (InvoiceStatus.PAID, "EUR", 123456, "OP-2026-1"),
            (InvoiceStatus.UNPAID, "GBP", 0, "OP-2026-2"),
            (InvoiceStatus.OVERDUE, "USD", 5, "OP-2026-3"),
            (InvoiceStatus.REFUNDED, "CHF", 99, HOSTILE_NUMBER),
        ]
    ]
    made[0].issued_on, made[0].due_date = dt.date(2026, 9, 1), dt.date(2026, 12, 31)
    made[0].save()
    return made


@pytest.fixture
def services(alice):
    order = Order.objects.create(user=alice, currency="EUR")
    hostile = ProductFactory(name=HOSTILE)
    plain = ProductFactory(name="Starter hosting")
    return [
        Service.objects.create(
            user=alice,
            order=order,
            product=product,
            cycle=cycle,
            currency=currency,
            amount=amount,
            status=status,
            next_due_date=due,
        )
        for product, cycle, currency, amount, status, due in [
            (plain, BillingCycle.MONTHLY, "EUR", 999, ServiceStatus.ACTIVE, dt.date(2026, 5, 9)),
            (hostile, BillingCycle.YEARLY, "GBP", 12000, ServiceStatus.PENDING, None),
            (plain, BillingCycle.QUARTERLY, "USD", 0, ServiceStatus.SUSPENDED, dt.date(2027, 1, 1)),
        ]
    ]


def test_invoice_rows_are_the_markup_of_the_row_partial(invoices):
    rows = Invoice.objects.filter(pk__in=[i.pk for i in invoices]).order_by("pk")
    ours = invoice_rows(rows.values(*INVOICE_COLUMNS))

    assert parse_html(ours) == parse_html(_template(INVOICE_ROW, list(rows)))
    assert ours.count("<tr>") == 4


def test_service_rows_are_the_markup_of_the_row_partial(services):
    rows = Service.objects.filter(pk__in=[s.pk for s in services]).order_by("pk")
    ours = service_rows(rows.values(*SERVICE_COLUMNS))

    assert parse_html(ours) == parse_html(_template(SERVICE_ROW, list(rows)))
    assert ours.count("<tr>") == 3


def test_a_hostile_number_or_product_name_is_text_not_markup(invoices, services):
    invoice = invoice_rows(Invoice.objects.filter(number=HOSTILE_NUMBER).values(*INVOICE_COLUMNS))
    service = service_rows(Service.objects.filter(product__name=HOSTILE).values(*SERVICE_COLUMNS))

    assert "<b>" not in invoice
    assert "&lt;b&gt;&quot;1&quot;&amp;&#x27;&lt;/b&gt;</a>" in invoice
    assert "<script>" not in service
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;Co&#x27;</a>" in service


def _links(html: str) -> list[str]:
    return re.findall(r'<td data-label="(?:Number|Service)"><a href="([^"]+)">', html)


def test_each_row_links_to_its_own_invoice_and_service(alice_client, invoices, services):
    for name, objects, detail in [
        ("billing:invoices", invoices, "billing:invoice_detail"),
        ("billing:services", services, "billing:service_detail"),
    ]:
        links = _links(alice_client.get(reverse(name)).content.decode())
        assert len(links) == len(objects)
        for link in links:
            match = resolve(link)
            assert match.view_name == detail
            shown = next(obj for obj in objects if obj.pk == match.kwargs["pk"])
            label = shown.number if detail == "billing:invoice_detail" else shown.product.name
            page = alice_client.get(link)
            assert page.status_code == 200
            assert escape(label) in page.content.decode()


def test_row_links_carry_the_url_prefix_of_each_request(alice_client, invoices, services):
    invoices_path, services_path = reverse("billing:invoices"), reverse("billing:services")
    alice_client.get(invoices_path)  # a request without a prefix first
    alice_client.get(services_path)
    set_script_prefix("/panel/")  # as the WSGI handler does for SCRIPT_NAME=/panel
    try:
        invoice_links = _links(alice_client.get(invoices_path).content.decode())
        service_links = _links(alice_client.get(services_path).content.decode())
    finally:
        clear_script_prefix()

    assert set(invoice_links) == {f"/panel/billing/invoices/{i.pk}/" for i in invoices}
    assert set(service_links) == {f"/panel/billing/services/{s.pk}/" for s in services}
