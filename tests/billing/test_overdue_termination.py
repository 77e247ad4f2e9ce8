"""Terminating a service for non-payment: its invoices for periods already begun stay
owed by default (BILLING_OVERDUE_TERMINATION_INVOICES=keep) or are written off; those
for periods not begun are cancelled; each invoice's audit trail says why, and staff are
told once."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from billing.models import Invoice, InvoiceLine, InvoiceStatus, Service, ServiceStatus
from billing.services import cancellations
from billing.services.dunning import invoices_mark_overdue, services_suspend_overdue
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from billing.services.renewals import renewals_generate
from notifications.models import OutboxMessage
from tests.factories import InvoiceFactory
from tests.helpers import order_and_pay

AFTER = 30


@pytest.fixture
def long_suspended(alice, hosted_plan, fake_panel, django_capture_on_commit_callbacks):
    """Alice's service, suspended for its unpaid renewal, and one more unpaid invoice for
    the period after it (not begun when the service is terminated)."""
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    due = service.next_due_date
    [renewal_id] = renewals_generate(today=due, days_ahead=0)
    invoices_mark_overdue(today=due + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        services_suspend_overdue(today=due + dt.timedelta(days=8), grace_days=7)
    later = InvoiceFactory(user=alice, subtotal=1000, tax_amount=0)
    InvoiceLine.objects.create(
        invoice=later,
        service=service,
        description="Cloud hosting, next period",
        quantity=1,
        unit_amount=1000,
        amount=1000,
        period_start=due + dt.timedelta(days=60),
        period_end=due + dt.timedelta(days=90),
    )
    service.refresh_from_db()
    return service, Invoice.objects.get(pk=renewal_id), later


def terminate(service, capture, today):
    with capture(execute=True):
        return cancellations.service_terminate_overdue(
            service_id=service.pk, after_days=AFTER, today=today
        )


def notes(invoice):
    return [
        entry.additional_data["note"]
        for entry in LogEntry.objects.get_for_object(invoice).order_by("pk")
        if entry.additional_data
    ]


def test_by_default_the_debt_stays_owed_and_paying_it_does_not_revive_the_service(
    long_suspended, charlie, fake_panel, django_capture_on_commit_callbacks, settings
):
    assert settings.BILLING_OVERDUE_TERMINATION_INVOICES == "keep"
    service, renewal, later = long_suspended
    today = service.next_due_date + dt.timedelta(days=40)

    outcome = terminate(service, django_capture_on_commit_callbacks, today)

    assert [i.pk for i in outcome.kept] == [renewal.pk]
    assert [i.pk for i in outcome.cancelled] == [later.pk]
    service.refresh_from_db()
    assert service.status == ServiceStatus.TERMINATED
    assert f"service-{service.pk}" not in fake_panel.accounts
    renewal.refresh_from_db()
    later.refresh_from_db()
    assert (renewal.status, later.status) == (InvoiceStatus.OVERDUE, InvoiceStatus.CANCELLED)
    assert "Kept as owed" in notes(renewal)[-1] and "terminated" in notes(renewal)[-1]
    assert "period had not begun" in notes(later)[-1]

    [mail] = OutboxMessage.objects.filter(kind="billing-staff-service-terminated-overdue")
    assert mail.recipient == "charlie@example.com"
    assert f"Still owed (keep): {renewal.number}" in mail.body_text
    assert f"Cancelled: {later.number}" in mail.body_text
    assert reverse("admin:billing_service_change", args=[service.pk]) in mail.body_text

    # A second run ends nothing and tells nobody again.
    assert terminate(service, django_capture_on_commit_callbacks, today) is None
    assert (
        OutboxMessage.objects.filter(kind="billing-staff-service-terminated-overdue").count() == 1
    )

    # The customer can still settle the debt; the service stays terminated.
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_mark_paid_outside_stripe(invoice=renewal)
    assert Service.objects.get(pk=service.pk).status == ServiceStatus.TERMINATED
    assert f"service-{service.pk}" not in fake_panel.accounts


def test_write_off_cancels_the_overdue_invoice_and_says_so(
    long_suspended, charlie, django_capture_on_commit_callbacks, settings
):
    settings.BILLING_OVERDUE_TERMINATION_INVOICES = "write_off"
    service, renewal, later = long_suspended

    outcome = terminate(
        service, django_capture_on_commit_callbacks, service.next_due_date + dt.timedelta(days=40)
    )

    assert outcome.kept == []
    renewal.refresh_from_db()
    assert renewal.status == InvoiceStatus.CANCELLED
    assert "written off" in notes(renewal)[-1]
    entry = LogEntry.objects.get_for_object(renewal).latest("pk")
    assert entry.changes_dict["status"] == ["overdue", "cancelled"]
    mail = OutboxMessage.objects.get(kind="billing-staff-service-terminated-overdue")
    assert "Still owed" not in mail.body_text
    assert renewal.number in mail.body_text and later.number in mail.body_text


def test_a_customer_cancellation_still_cancels_its_unpaid_invoices_with_a_note(
    alice, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    [renewal_id] = renewals_generate(today=service.next_due_date, days_ahead=0)
    from billing.models import CancelWhen

    with django_capture_on_commit_callbacks(execute=True):
        cancellations.service_cancel_request(
            service=service, when=CancelWhen.IMMEDIATELY, reason="moving", actor=alice
        )
    renewal = Invoice.objects.get(pk=renewal_id)
    assert renewal.status == InvoiceStatus.CANCELLED
    assert "Cancelled with its service" in notes(renewal)[-1]
    assert not OutboxMessage.objects.filter(
        kind="billing-staff-service-terminated-overdue"
    ).exists()
