from __future__ import annotations

import json

import pytest
import stripe

from billing import personal_data
from billing.models import (
    BillingAccount,
    Invoice,
    PaymentMethod,
    ServiceStatus,
    StripeEvent,
)
from billing.services.invoices import invoice_mark_paid
from billing.services.renewals import renewals_generate
from core.personal import category_value
from tests.factories import PaymentMethodFactory, StripeEventFactory
from tests.helpers import save_card, stripe_client


def test_export_lists_orders_services_invoices_and_cards_but_no_card_numbers(alice, alice_invoice):
    PaymentMethodFactory(user=alice, last4="4242")
    data = {k: category_value(v) for k, v in personal_data.export(alice).items()}
    assert data["invoices"][0]["number"] == alice_invoice.number
    assert data["invoices"][0]["billed_to"]["name"] == "Alice Archer"
    assert data["services"][0]["product"] == "Starter hosting"
    assert data["cards"] == [
        {"brand": "visa", "last4": "4242", "expiry": "12/2034", "country": "US", "default": True}
    ]
    json.dumps(data)  # the export is plain JSON


def test_billing_builds_its_export_one_category_at_a_time(
    alice, alice_invoice, django_assert_num_queries
):
    """The invoices of a long-standing customer are the largest category: each category
    is read only when the export writes it, so no two are in memory together."""
    with django_assert_num_queries(1):  # the billing account, nothing else yet
        categories = personal_data.export(alice)
    with django_assert_num_queries(2):  # the invoices and their lines, only now
        invoices = category_value(categories["invoices"])
    assert [i["number"] for i in invoices] == [alice_invoice.number]


def test_export_of_another_customer_holds_nothing_of_alices(alice_invoice, bob):
    data = {k: category_value(v) for k, v in personal_data.export(bob).items()}
    assert data["invoices"] == [] and data["services"] == [] and data["cards"] == []


def test_erase_keeps_invoices_for_the_law_and_removes_the_rest(
    alice, alice_invoice, django_capture_on_commit_callbacks
):
    BillingAccount.objects.filter(user=alice).update(
        vat_number="GB123456789", stripe_customer_id="cus_Gone"
    )
    PaymentMethodFactory(user=alice)
    StripeEventFactory(
        event_id="evt_1",
        type="customer.updated",
        payload={"data": {"object": {"id": "cus_Gone", "email": "alice@example.com"}}},
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        personal_data.erase(alice)
    assert len(callbacks) == 1  # the Stripe customer is deleted by a worker after commit
    invoice = Invoice.objects.get(pk=alice_invoice.pk)
    assert invoice.billing_name == "Alice Archer"  # required on an invoice
    assert invoice.billing_email == ""
    assert not PaymentMethod.objects.filter(user=alice).exists()
    assert alice_invoice.order.services.get().status == ServiceStatus.CANCELLED
    account = BillingAccount.objects.get(user=alice)
    assert (account.vat_number, account.stripe_customer_id) == ("", "")
    assert "alice@example.com" not in json.dumps(StripeEvent.objects.get().payload)
    personal_data.erase(alice)  # idempotent


def test_erased_customers_services_are_not_renewed(alice, alice_invoice):
    import datetime as dt

    from django.utils import timezone

    invoice_mark_paid(invoice=alice_invoice)
    personal_data.erase(alice)
    assert (
        renewals_generate(today=timezone.localdate() + dt.timedelta(days=400), days_ahead=0) == []
    )


@pytest.mark.django_db(transaction=True)
def test_erase_deletes_the_stripe_customer(localstripe, alice):
    card = save_card(localstripe, alice)
    customer_id = BillingAccount.objects.get(user=alice).stripe_customer_id
    personal_data.erase(alice)
    with pytest.raises(stripe.InvalidRequestError, match="Not Found"):  # localstripe: gone
        stripe_client(localstripe).v1.customers.retrieve(customer_id)
    assert not PaymentMethod.objects.filter(pk=card.pk).exists()
