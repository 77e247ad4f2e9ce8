"""Renewals, reminders, overdue marking, suspension and auto-charge, as beat runs them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import tasks
from billing.models import (
    BillingAccount,
    Invoice,
    InvoiceStatus,
    PaymentStatus,
    Service,
    ServiceStatus,
)
from billing.services.dunning import (
    invoices_due_for_reminder,
    invoices_mark_overdue,
    services_suspend_overdue,
)
from billing.services.invoices import invoice_mark_paid
from billing.services.manual_payments import invoice_cancel
from billing.services.orders import CartLine, order_place
from billing.services.renewals import renewals_generate
from billing.services.scheduled_charges import invoices_to_auto_charge
from tests.factories import TaxRateFactory, UserFactory
from tests.helpers import save_card

TODAY = dt.date(2027, 3, 10)


def active_service(user, plan, due: dt.date, cycle: str = "monthly") -> Service:
    order = order_place(
        user=user, lines=[CartLine(product_id=plan.pk, cycle=cycle)], currency="EUR"
    )
    invoice_mark_paid(invoice=order.invoices.get())
    service = order.services.get()
    # As if ordered one cycle before `due`.
    service.invoice_lines.update(period_start=due - dt.timedelta(days=30), period_end=due)
    Service.objects.filter(pk=service.pk).update(next_due_date=due)
    service.refresh_from_db()
    return service


def test_it_invoices_services_due_within_the_window_once(alice, bob, plan, uk_vat):
    due_soon = active_service(alice, plan, TODAY + dt.timedelta(days=10))
    later = active_service(bob, plan, TODAY + dt.timedelta(days=20))
    first = renewals_generate(today=TODAY, days_ahead=14)
    again = renewals_generate(today=TODAY, days_ahead=14)
    assert len(first) == 1
    assert again == []
    invoice = Invoice.objects.get(pk=first[0])
    line = invoice.lines.get()
    assert line.service == due_soon
    assert (line.period_start, line.period_end) == (due_soon.next_due_date, dt.date(2027, 4, 20))
    assert invoice.due_date == due_soon.next_due_date
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (500, 100, 600)
    assert not later.invoice_lines.filter(period_start=later.next_due_date).exists()


def test_renewal_numbers_follow_the_order_numbers_without_gaps(alice, plan, monkeypatch):
    # The orders are placed on TODAY too, so their invoices and the renewals share one
    # year's numbering whatever year the suite runs in.
    real_localdate = timezone.localdate

    def on_today(value: dt.datetime | None = None, timezone: dt.tzinfo | None = None) -> dt.date:
        return TODAY if value is None else real_localdate(value, timezone)

    monkeypatch.setattr(timezone, "localdate", on_today)
    for days in (1, 2, 3):
        active_service(alice, plan, TODAY + dt.timedelta(days=days))

    renewed = renewals_generate(today=TODAY, days_ahead=14, batch_size=2)

    assert len(renewed) == 3
    numbers = list(Invoice.objects.order_by("sequence").values_list("year", "sequence"))
    assert numbers == [(TODAY.year, sequence) for sequence in range(1, 7)]


def test_each_renewal_batch_starts_after_the_services_of_the_one_before(alice, plan):
    services = [active_service(alice, plan, TODAY + dt.timedelta(days=1)) for _ in range(5)]

    with CaptureQueriesContext(connection) as captured:
        renewed = renewals_generate(today=TODAY, days_ahead=14, batch_size=2)

    assert len(renewed) == 5
    picks = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith('SELECT "billing_service"."id"')
    ]
    # Three batches and the empty read that ends the run; each after the first starts
    # past the last service already invoiced, so those are never read again.
    assert len(picks) == 4
    for pick, last in zip(picks[1:], (services[1], services[3], services[4]), strict=True):
        assert f'"billing_service"."id" > {last.pk}' in pick


def test_renewals_apply_each_customers_tax(alice, bob, plan, settings):
    settings.BILLING_SELLER_COUNTRY = "IE"
    TaxRateFactory(country="DE", rate="19.00", is_eu=True)
    bob.country = "DE"
    bob.save()
    BillingAccount.objects.update_or_create(user=bob, defaults={"vat_number": "DE123456789"})
    active_service(bob, plan, TODAY + dt.timedelta(days=3))
    [invoice_id] = renewals_generate(today=TODAY, days_ahead=14)
    invoice = Invoice.objects.get(pk=invoice_id)
    assert invoice.reverse_charge is True
    assert invoice.tax_amount == 0


def test_paying_a_renewal_extends_the_service(alice, plan):
    service = active_service(alice, plan, TODAY + dt.timedelta(days=5))
    [invoice_id] = renewals_generate(today=TODAY, days_ahead=14)
    invoice_mark_paid(invoice=Invoice.objects.get(pk=invoice_id))
    service.refresh_from_db()
    assert service.next_due_date == dt.date(2027, 4, 15)
    assert renewals_generate(today=TODAY, days_ahead=14) == []


def test_it_marks_overdue_suspends_after_grace_and_payment_restarts(alice, plan):
    service = active_service(alice, plan, TODAY - dt.timedelta(days=1))
    [invoice_id] = renewals_generate(today=TODAY - dt.timedelta(days=20), days_ahead=30)
    assert invoices_mark_overdue(today=TODAY) == [invoice_id]
    assert invoices_mark_overdue(today=TODAY) == []
    assert services_suspend_overdue(today=TODAY, grace_days=7) == []
    later = TODAY + dt.timedelta(days=8)
    assert services_suspend_overdue(today=later, grace_days=7) == [service.pk]
    assert services_suspend_overdue(today=later, grace_days=7) == []
    service.refresh_from_db()
    assert service.status == ServiceStatus.SUSPENDED
    invoice_mark_paid(invoice=Invoice.objects.get(pk=invoice_id))
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    assert service.suspended_at is None


def test_it_reminds_once_before_the_due_date(alice, plan):
    active_service(alice, plan, TODAY + dt.timedelta(days=2))
    [invoice_id] = renewals_generate(today=TODAY, days_ahead=14)
    assert invoices_due_for_reminder(today=TODAY, days_before=3) == [invoice_id]
    assert invoices_due_for_reminder(today=TODAY, days_before=3) == []


def test_the_beat_tasks_tell_customers(alice, plan, django_capture_on_commit_callbacks, mailoutbox):
    today = timezone.localdate()
    active_service(alice, plan, today + dt.timedelta(days=2))
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.generate_renewal_invoices.delay().get() == 1
        assert tasks.send_payment_reminders.delay().get() == 1
    subjects = [m.subject for m in mailoutbox]
    assert subjects[0].startswith("Invoice INV-")
    assert "is due on" in subjects[1]
    assert tasks.generate_renewal_invoices.delay().get() == 0


def test_overdue_and_suspension_task_tells_customers(
    alice, plan, django_capture_on_commit_callbacks, mailoutbox
):
    today = timezone.localdate()
    active_service(alice, plan, today - dt.timedelta(days=30))
    renewals_generate(today=today - dt.timedelta(days=40), days_ahead=14)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.mark_overdue_and_suspend.delay().get()
    assert result == {"overdue": 1, "suspended": 1}
    assert [m.subject for m in mailoutbox][0].endswith("is overdue")
    assert "suspended" in mailoutbox[1].subject


def test_auto_charge_pays_due_invoices_with_the_default_card_once(localstripe, alice, bob, plan):
    today = timezone.localdate()
    service = active_service(alice, plan, today)
    active_service(bob, plan, today)  # bob has no card: not charged
    save_card(localstripe, alice)
    renewals_generate(today=today, days_ahead=0)
    assert tasks.auto_charge_due_invoices.delay().get() == 1
    invoice = Invoice.objects.get(lines__service=service, lines__period_start=today)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.payments.get().off_session is True
    assert invoice.payments.get().status == PaymentStatus.SUCCEEDED
    assert tasks.auto_charge_due_invoices.delay().get() == 0


def test_auto_charge_tries_a_declined_card_once_a_day(alice, plan):
    from tests.factories import PaymentMethodFactory

    today = timezone.localdate()
    active_service(alice, plan, today)
    PaymentMethodFactory(user=alice)
    [invoice_id] = renewals_generate(today=today, days_ahead=0)
    Invoice.objects.get(pk=invoice_id).payments.create(
        attempt=1, amount=600, currency="EUR", status=PaymentStatus.FAILED
    )
    assert invoices_to_auto_charge(today=today, max_attempts=3) == []
    assert invoices_to_auto_charge(today=today + dt.timedelta(days=1), max_attempts=3) == [
        invoice_id
    ]
    assert invoices_to_auto_charge(today=today + dt.timedelta(days=1), max_attempts=1) == []


@pytest.mark.parametrize(
    "task",
    [
        "billing.tasks.generate_renewal_invoices",
        "billing.tasks.mark_overdue_and_suspend",
        "billing.tasks.send_payment_reminders",
        "billing.tasks.auto_charge_due_invoices",
    ],
)
def test_beat_schedules_every_billing_job(task):
    from config.celery import app

    assert task in {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert task in app.tasks


def test_renewals_handle_many_services_in_few_queries(plan, django_assert_max_num_queries):
    users = UserFactory.create_batch(30)
    for user in users:
        active_service(user, plan, TODAY + dt.timedelta(days=1))
    with django_assert_max_num_queries(30):
        created = renewals_generate(today=TODAY, days_ahead=14, batch_size=1000)
    assert len(created) == 30


def test_cancelling_a_renewal_invoice_ends_the_service(alice, plan):
    service = active_service(alice, plan, TODAY + dt.timedelta(days=5))
    [invoice_id] = renewals_generate(today=TODAY, days_ahead=14)
    assert invoice_cancel(invoice=Invoice.objects.get(pk=invoice_id)) is True
    service.refresh_from_db()
    assert (service.status, service.next_due_date) == (ServiceStatus.CANCELLED, None)
    assert renewals_generate(today=TODAY + dt.timedelta(days=60), days_ahead=14) == []
