from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from billing.models import (
    BillingAccount,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OrderStatus,
    Price,
    Product,
    Service,
    ServiceStatus,
    TaxRate,
)
from billing.services.invoices import invoice_mark_paid
from billing.services.manual_payments import invoice_cancel
from billing.services.orders import CartLine, order_place
from billing.services.renewals import renewals_generate
from core.exceptions import ApplicationError
from tests.factories import TaxRateFactory


def place(user, product, cycle="monthly", currency="EUR"):
    return order_place(
        user=user, lines=[CartLine(product_id=product.pk, cycle=cycle)], currency=currency
    )


def test_it_creates_pending_services_and_one_unpaid_invoice(alice, plan, uk_vat):
    order = place(alice, plan, cycle="yearly")
    service = order.services.get()
    invoice = order.invoices.get()
    assert service.status == ServiceStatus.PENDING
    assert service.next_due_date is None
    assert invoice.status == InvoiceStatus.UNPAID
    assert [line.amount for line in invoice.lines.all()] == [5000, 1000]  # cycle + setup fee
    assert invoice.subtotal == 6000
    assert invoice.tax_amount == 1200  # GB VAT 20 %
    assert invoice.total == 7200
    assert invoice.currency == "EUR"
    assert invoice.billing_name == "Alice Archer"
    assert "London" in invoice.billing_address


def test_it_numbers_invoices_sequentially_per_year(alice, bob, plan):
    first = place(alice, plan).invoices.get()
    second = place(bob, plan).invoices.get()
    year = first.issued_on.year
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.number == f"INV-{year}-000001"
    assert second.number == f"INV-{year}-000002"


def test_it_gives_a_number_back_when_the_order_fails(alice, plan):
    with pytest.raises(ApplicationError):
        order_place(
            user=alice,
            lines=[
                CartLine(product_id=plan.pk, cycle="monthly"),
                CartLine(product_id=plan.pk, cycle="quarterly"),  # no such price
            ],
            currency="EUR",
        )
    assert Invoice.objects.count() == 0
    assert place(alice, plan).invoices.get().sequence == 1


def test_it_refuses_two_invoices_with_the_same_year_and_sequence(alice, plan):
    invoice = place(alice, plan).invoices.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            **{
                f.attname: getattr(invoice, f.attname)
                for f in Invoice._meta.concrete_fields
                if f.name not in {"id", "number"}
            },
            number="other",
        )


def test_it_refuses_an_empty_cart(alice):
    with pytest.raises(ApplicationError, match="empty"):
        order_place(user=alice, lines=[], currency="EUR")


def test_it_refuses_a_product_not_sold_in_the_currency(alice, plan):
    with pytest.raises(ApplicationError, match="currency"):
        place(alice, plan, cycle="yearly", currency="USD")


def test_it_charges_no_vat_to_an_eu_business_with_a_vat_number(alice, plan, settings):
    settings.BILLING_SELLER_COUNTRY = "IE"
    TaxRateFactory(country="DE", rate="19.00", is_eu=True)
    alice.country = "DE"
    alice.save()
    BillingAccount.objects.create(user=alice, vat_number="DE123456789")
    invoice = place(alice, plan).invoices.get()
    assert invoice.reverse_charge is True
    assert invoice.tax_amount == 0
    assert invoice.vat_number == "DE123456789"


def test_it_charges_vat_to_an_eu_consumer(alice, plan):
    TaxRateFactory(country="DE", rate="19.00", is_eu=True)
    alice.country = "DE"
    alice.save()
    invoice = place(alice, plan).invoices.get()
    assert invoice.reverse_charge is False
    assert invoice.tax_amount == 95  # 19 % of 5.00, rounded half up


def test_it_charges_no_tax_where_no_rate_is_set(alice, plan):
    alice.country = "US"
    alice.save()
    invoice = place(alice, plan).invoices.get()
    assert (invoice.tax_amount, invoice.tax_name) == (0, "")


def test_it_activates_services_once_when_the_invoice_is_paid(
    alice, plan, django_capture_on_commit_callbacks, mailoutbox
):
    order = place(alice, plan)
    invoice = order.invoices.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_mark_paid(invoice=invoice) is True
        assert invoice_mark_paid(invoice=invoice) is False
    service = order.services.get()
    order.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    assert service.next_due_date == invoice.lines.first().period_end
    assert order.status == OrderStatus.PAID
    assert [m.subject for m in mailoutbox] == [f"Payment received for invoice {invoice.number}"]


def test_it_cancels_an_unpaid_invoice_and_its_pending_services(alice, plan):
    order = place(alice, plan)
    invoice = order.invoices.get()
    assert invoice_cancel(invoice=invoice) is True
    assert order.services.get().status == ServiceStatus.CANCELLED
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.CANCELLED
    assert invoice_mark_paid(invoice=invoice) is False


def test_it_advances_a_month_to_the_end_of_a_short_month():
    from billing.models import BillingCycle

    assert BillingCycle.advance(dt.date(2027, 1, 31), "monthly") == dt.date(2027, 2, 28)
    assert BillingCycle.advance(dt.date(2027, 1, 31), "quarterly") == dt.date(2027, 4, 30)
    assert BillingCycle.advance(dt.date(2027, 1, 31), "yearly") == dt.date(2028, 1, 31)


@pytest.mark.django_db(transaction=True)
def test_it_hands_out_gap_free_numbers_to_concurrent_orders(plan):
    from tests.factories import UserFactory

    users = [UserFactory() for _ in range(6)]
    errors = []

    def buy(user):
        try:
            place(user, plan)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert DocumentCounter.objects.get(series="INV").last_number == 6


def test_it_seeds_the_catalogue_idempotently(db):
    call_command("seed_catalogue", stdout=open("/dev/null", "w"))  # noqa: SIM115
    counts = (Product.objects.count(), Price.objects.count(), TaxRate.objects.count())
    call_command("seed_catalogue", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert counts == (Product.objects.count(), Price.objects.count(), TaxRate.objects.count())
    assert counts[0] == 6
    assert Price.objects.filter(product__slug="starter", currency="USD", cycle="monthly").exists()
    kinds = dict(Product.objects.filter(kind="plan").values_list("slug", "category"))
    assert kinds == {"starter": "shared", "business": "shared", "vps-2": "vps"}
    ip = Product.objects.get(slug="dedicated-ip")
    assert sorted(ip.addon_for.values_list("slug", flat=True)) == ["business", "vps-2"]


def test_it_keeps_one_line_per_service_and_period(alice, plan):
    order = place(alice, plan)
    line = order.invoices.get().lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=line.invoice,
            description="again",
            unit_amount=1,
            amount=1,
            service=line.service,
            period_start=line.period_start,
        )
    assert Service.objects.count() == 1


def test_a_free_plan_starts_at_once_and_renews_without_a_bill(
    alice, django_capture_on_commit_callbacks
):
    from tests.factories import PriceFactory, ProductFactory

    free = ProductFactory(name="Free tier")
    PriceFactory(product=free, amount=0)
    order = place(alice, free)
    invoice = order.invoices.get()
    service = order.services.get()
    assert (invoice.total, invoice.status) == (0, InvoiceStatus.PAID)
    assert service.status == ServiceStatus.ACTIVE
    [renewal] = renewals_generate(today=service.next_due_date, days_ahead=0)
    assert Invoice.objects.get(pk=renewal).status == InvoiceStatus.PAID
    service.refresh_from_db()
    assert service.next_due_date > invoice.lines.get().period_end


@pytest.mark.parametrize(
    ("country", "vat_number", "reverse_charge"),
    [("FR", "DE123456789", False), ("DE", "DE123456789", True), ("GR", "EL123456789", True)],
)
def test_it_reverse_charges_only_a_vat_number_of_the_customers_own_country(
    alice, plan, settings, country, vat_number, reverse_charge
):
    settings.BILLING_SELLER_COUNTRY = "IE"
    TaxRateFactory(country=country, rate="20.00", is_eu=True)
    alice.country = country
    alice.save()
    BillingAccount.objects.create(user=alice, vat_number=vat_number)
    invoice = place(alice, plan).invoices.get()
    assert invoice.reverse_charge is reverse_charge
    assert invoice.tax_amount == (0 if reverse_charge else 100)


def test_a_checkout_token_places_its_order_once(alice, plan):
    line = CartLine(product_id=plan.pk, cycle="monthly")
    first = order_place(user=alice, lines=[line], currency="EUR", checkout_token="t1")
    again = order_place(user=alice, lines=[line], currency="EUR", checkout_token="t1")
    assert again == first
    assert Invoice.objects.filter(user=alice).count() == 1


def test_an_empty_cart_with_a_token_leaves_no_order_behind(alice, plan):
    with pytest.raises(ApplicationError, match="empty"):
        order_place(user=alice, lines=[], currency="EUR", checkout_token="t2")
    assert not alice.orders.exists()
