"""Customer credit: a downgrade's prorated difference goes to a balance per currency,
the next invoices take it on their own ("Credit applied"), the customer sees it on their
billing pages, and staff add or remove it from the customer's admin page, audited."""

from __future__ import annotations

import html
import re

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import CreditEntry, CreditKind, Invoice, InvoiceStatus, ServiceStatus
from billing.services.credit import credit_adjust
from billing.services.invoices import invoice_mark_paid
from billing.services.orders import CartLine, order_place
from billing.services.refunds import credit_note_issue
from billing.tasks import generate_renewal_invoices
from notifications.models import OutboxMessage
from tests.factories import PriceFactory, ProductFactory
from tests.helpers import order_and_pay


@pytest.fixture
def bigger_plan(hosted_plan):
    product = ProductFactory(
        name="Cloud hosting L",
        slug="cloud-l",
        group="cloud",
        server_group=hosted_plan.server_group,
        package="cloud-l",
    )
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=3000)
    return product


def text(response) -> str:
    """The page's text, tags removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.content.decode()))


def downgrade(client, service, product, capture):
    with capture(execute=True):
        client.post(reverse("billing:service_change", args=[service.pk]), {"product": product.pk})


def test_a_downgrade_is_credit_the_next_renewal_takes_and_the_customer_sees_it(
    client,
    alice,
    bob,
    hosted_plan,
    bigger_plan,
    fake_panel,
    django_capture_on_commit_callbacks,
    settings,
):
    service = order_and_pay(alice, bigger_plan, django_capture_on_commit_callbacks)
    client.force_login(alice)
    downgrade(client, service, hosted_plan, django_capture_on_commit_callbacks)

    [entry] = CreditEntry.objects.filter(user=alice)
    assert (entry.kind, entry.amount, entry.balance_after) == (CreditKind.DOWNGRADE, 2000, 2000)
    assert "Your credit: €20.00" in text(client.get(reverse("billing:invoices")))
    page = text(client.get(reverse("billing:credit")))
    assert "Downgrade credit: Change from Cloud hosting L to Cloud hosting" in page
    assert "€20.00" in page

    # The renewal (10.00, no tax for this customer) is paid from the credit on its own.
    settings.BILLING_RENEWAL_DAYS_AHEAD = 40
    paid_until = service.next_due_date
    with django_capture_on_commit_callbacks(execute=True):
        assert generate_renewal_invoices() == 1
    renewal = Invoice.objects.filter(user=alice).latest("pk")
    assert (renewal.status, renewal.credit_applied, renewal.total) == (InvoiceStatus.PAID, 1000, 0)
    service.refresh_from_db()
    assert service.next_due_date > paid_until and service.status == ServiceStatus.ACTIVE
    assert alice.credit_balances.get(currency="EUR").amount == 1000
    invoice_page = text(client.get(reverse("billing:invoice_detail", args=[renewal.pk])))
    assert "Credit applied−€10.00" in invoice_page
    assert "Left to pay€0.00" in invoice_page
    told = OutboxMessage.objects.filter(user=alice, kind__startswith="billing-invoice-")
    assert told.filter(kind="billing-invoice-paid").exists()
    assert not any(
        renewal.number in m.subject + m.body_text
        for m in told.filter(kind="billing-invoice-issued")
    )
    assert "Applied to invoice " + renewal.number in text(client.get(reverse("billing:credit")))

    # Another customer sees none of it.
    client.force_login(bob)
    assert "Your credit" not in text(client.get(reverse("billing:invoices")))
    assert "No credit yet" in text(client.get(reverse("billing:credit")))


def test_credit_smaller_than_an_invoice_leaves_the_rest_to_pay(alice, charlie, plan):
    credit_adjust(user=alice, currency="EUR", amount=300, note="goodwill", actor=charlie)
    order = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    )
    invoice = order.invoices.get()
    assert invoice.status == InvoiceStatus.UNPAID
    assert (invoice.credit_applied, invoice.total) == (
        300,
        invoice.subtotal + invoice.tax_amount - 300,
    )
    assert alice.credit_balances.get(currency="EUR").amount == 0
    # Credit in another currency is not touched.
    credit_adjust(user=alice, currency="USD", amount=900, note="other", actor=charlie)
    usd = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()
    assert usd.credit_applied == 0
    assert alice.credit_balances.get(currency="USD").amount == 900


def test_a_refund_in_full_gives_back_the_credit_the_invoice_took_once(alice, charlie, plan):
    credit_adjust(user=alice, currency="EUR", amount=300, note="goodwill", actor=charlie)
    invoice = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()
    invoice_mark_paid(invoice=invoice)  # the card paid the rest
    assert alice.credit_balances.get(currency="EUR").amount == 0

    # Part of the card payment back: the invoice still stands, so does its credit.
    credit_note_issue(invoice=invoice, amount=100, stripe_refund_id="re_Part")
    assert alice.credit_balances.get(currency="EUR").amount == 0

    # The rest back: the whole invoice is undone, and the credit it took returns.
    credit_note_issue(invoice=invoice, amount=invoice.total - 100, stripe_refund_id="re_Rest")
    credit_note_issue(invoice=invoice, amount=invoice.total - 100, stripe_refund_id="re_Rest")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REFUNDED
    assert alice.credit_balances.get(currency="EUR").amount == 300
    returned = CreditEntry.objects.get(user=alice, kind=CreditKind.RETURNED)
    assert (returned.amount, returned.invoice_id) == (300, invoice.pk)


def test_staff_add_and_remove_credit_from_the_customer_page_with_an_audit_entry(
    client, alice, charlie
):
    client.force_login(charlie)
    customer_page = reverse("admin:accounts_user_change", args=[alice.pk])
    page = client.get(customer_page).content.decode()
    adjust = reverse("admin:billing_creditentry_adjust") + f"?user={alice.pk}"
    assert html.escape(adjust) in page

    response = client.post(
        adjust,
        {
            "customer_email": alice.email,
            "currency": "EUR",
            "direction": "add",
            "amount": "12.50",
            "note": "outage on 3 Nov",
        },
    )
    assert response.status_code == 302
    entry = CreditEntry.objects.get(user=alice)
    assert (entry.amount, entry.actor, entry.kind) == (1250, charlie, CreditKind.STAFF)
    audit = LogEntry.objects.get_for_object(entry).get()
    assert audit.actor == charlie and audit.action == LogEntry.Action.CREATE
    page = text(client.get(customer_page))
    assert "Adjusted by staff: outage on 3 Nov (by charlie@example.com)" in page
    assert "€12.50" in page

    response = client.post(
        adjust,
        {
            "customer_email": alice.email,
            "currency": "EUR",
            "direction": "remove",
            "amount": "2.50",
            "note": "typo",
        },
    )
    assert response.status_code == 302
    assert alice.credit_balances.get(currency="EUR").amount == 1000


@pytest.mark.parametrize(
    ("amount", "direction", "error"),
    [
        ("10.01", "remove", "The credit balance is €10.00; €10.01 cannot be taken from it."),
        ("0", "add", "Enter an amount above zero."),
        ("-5", "add", "Ensure this value is greater than or equal to 0"),
        ("lots", "add", "Enter a number."),
    ],
)
def test_bad_staff_input_is_a_form_error_and_changes_nothing(
    client, alice, charlie, amount, direction, error
):
    credit_adjust(user=alice, currency="EUR", amount=1000, note="start", actor=charlie)
    client.force_login(charlie)
    response = client.post(
        reverse("admin:billing_creditentry_adjust"),
        {
            "customer_email": alice.email,
            "currency": "EUR",
            "direction": direction,
            "amount": amount,
            "note": "x",
        },
    )
    assert response.status_code == 400
    assert error in text(response)
    assert alice.credit_balances.get(currency="EUR").amount == 1000
    assert CreditEntry.objects.filter(user=alice).count() == 1


def test_the_credit_page_costs_the_same_queries_however_many_entries(client, alice, charlie):
    client.force_login(alice)
    credit_adjust(user=alice, currency="EUR", amount=100, note="one", actor=charlie)
    client.get(reverse("billing:credit"))  # the session's first request fills caches
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("billing:credit"))
    for n in range(5):
        credit_adjust(user=alice, currency="EUR", amount=100, note=f"more {n}", actor=charlie)
    with CaptureQueriesContext(connection) as six:
        assert "more 4" in client.get(reverse("billing:credit")).content.decode()
    assert len(six) == len(one)
