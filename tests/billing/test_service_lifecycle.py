"""The service lifecycle through billing's own entry points, with a fake panel on loopback
(the generic module) and Celery tasks run eagerly on commit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    CancelWhen,
    InvoiceStatus,
    Service,
    ServiceStatus,
    ServiceTransition,
)
from billing.services import cancellations, lifecycle
from billing.services.dunning import invoices_mark_overdue, services_suspend_overdue
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from billing.services.orders import CartLine, order_place
from billing.tasks import run_due_cancellations, terminate_overdue_services
from core.exceptions import ApplicationError
from notifications.models import OutboxMessage
from provisioning.models import AccountStatus, ModuleLog
from tests.helpers import order_and_pay


def test_the_table_allows_only_its_transitions():
    assert lifecycle.can_transition(ServiceStatus.PENDING, ServiceStatus.PROVISIONING)
    assert not lifecycle.can_transition(ServiceStatus.PENDING, ServiceStatus.ACTIVE)
    assert not lifecycle.can_transition(ServiceStatus.TERMINATED, ServiceStatus.ACTIVE)
    assert not lifecycle.can_transition(ServiceStatus.SUSPENDED, ServiceStatus.TERMINATED)


def test_a_forbidden_transition_is_refused_and_a_repeat_is_a_no_op(
    alice, hosted_plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(
            user=alice, lines=[CartLine(product_id=hosted_plan.pk, cycle="monthly")], currency="EUR"
        )
    service = order.services.get()
    with pytest.raises(ApplicationError):
        lifecycle.service_transition(service_id=service.pk, to=ServiceStatus.ACTIVE)
    assert lifecycle.service_transition(service_id=service.pk, to=ServiceStatus.PENDING) is False
    assert not ServiceTransition.objects.exists()


def test_paying_provisions_on_the_panel_records_each_step_and_sends_the_login_once(
    alice, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)

    assert service.status == ServiceStatus.ACTIVE
    assert service.account.status == AccountStatus.CREATED
    assert fake_panel.accounts[f"service-{service.pk}"]["package"] == "cloud-s"
    steps = list(service.transitions.order_by("pk").values_list("from_status", "to_status", "job"))
    assert steps == [
        ("pending", "provisioning", "invoice_mark_paid"),
        ("provisioning", "active", "sync_service"),
    ]
    welcome = OutboxMessage.objects.get(kind="billing-service-ready")
    assert "S3cret-first-pass" in mail.outbox[-1].body
    # The outbox row never held the password in its text, and no longer holds it at all.
    welcome.refresh_from_db()
    assert "S3cret-first-pass" not in welcome.body_text + welcome.body_html
    assert welcome.secrets_encrypted == ""
    assert ModuleLog.objects.filter(account=service.account, action="create").count() == 1


def test_overdue_suspends_on_the_panel_and_paying_unsuspends(
    alice, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    reference = f"service-{service.pk}"
    from billing.services.renewals import renewals_generate

    with django_capture_on_commit_callbacks(execute=True):
        [renewal_id] = renewals_generate(today=service.next_due_date, days_ahead=0)
    due = service.next_due_date
    later = due + dt.timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        invoices_mark_overdue(today=later)
        assert services_suspend_overdue(today=later, grace_days=7) == [service.pk]
        assert services_suspend_overdue(today=later, grace_days=7) == []
    service.refresh_from_db()
    assert service.status == ServiceStatus.SUSPENDED
    assert fake_panel.accounts[reference]["state"] == "suspended"

    from billing.models import Invoice

    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid_outside_stripe(invoice=Invoice.objects.get(pk=renewal_id))
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    assert fake_panel.accounts[reference]["state"] == "active"
    assert service.transitions.filter(to_status="active", reason__contains="paid").count() == 1


def test_a_failed_set_up_tells_staff_once_and_staff_retry_from_admin(
    alice, charlie, client, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    fake_panel.secret = "the panel has another secret"  # every call is refused: permanent
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    assert service.status == ServiceStatus.FAILED
    assert "bad signature" in service.transitions.get(to_status="failed").reason
    staff_mail = OutboxMessage.objects.filter(kind="billing-staff-provisioning-failed")
    assert list(staff_mail.values_list("recipient", flat=True)) == ["charlie@example.com"]
    lifecycle.service_provision_failed(service_id=service.pk, reason="again")
    assert staff_mail.count() == 1

    fake_panel.secret = "whsec-generic-test-secret"
    client.force_login(charlie)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:billing_service_changelist"),
            {"action": "retry_provisioning", "_selected_action": [service.pk]},
        )
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    retry = service.transitions.get(from_status="failed")
    assert (retry.actor, retry.job) == (charlie, "admin")
    log = client.get(reverse("admin:provisioning_modulelog_changelist"))
    assert log.status_code == 200 and "bad signature" in log.content.decode()


def test_a_cancellation_at_the_end_of_the_period_waits_can_be_undone_and_then_terminates(
    alice, charlie, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    cancellations.service_cancel_request(
        service=service, when=CancelWhen.END_OF_PERIOD, reason="moving", actor=alice
    )
    service.refresh_from_db()
    assert service.cancel_at == service.next_due_date
    assert (
        cancellations.service_cancel_run(service_id=service.pk, today=timezone.localdate()) is False
    )
    assert cancellations.service_cancel_undo(service=service, actor=charlie)
    assert (
        cancellations.service_cancel_run(service_id=service.pk, today=service.next_due_date)
        is False
    )

    cancellations.service_cancel_request(
        service=service, when=CancelWhen.END_OF_PERIOD, reason="", actor=alice
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert cancellations.service_cancel_run(service_id=service.pk, today=service.next_due_date)
    service.refresh_from_db()
    assert service.status == ServiceStatus.TERMINATED
    assert f"service-{service.pk}" not in fake_panel.accounts
    assert list(service.transitions.order_by("pk").values_list("to_status", flat=True))[-2:] == [
        "cancelled",
        "terminated",
    ]


def test_an_immediate_cancellation_runs_at_once(
    alice, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.service_cancel_request(
            service=service, when=CancelWhen.IMMEDIATELY, reason="", actor=alice
        )
    service.refresh_from_db()
    assert service.status == ServiceStatus.TERMINATED
    assert OutboxMessage.objects.filter(kind="billing-service-terminated").count() == 1


def test_the_beat_jobs_run_due_cancellations_and_terminate_long_suspended_services(
    alice, hosted_plan, fake_panel, django_capture_on_commit_callbacks, settings
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    from billing.services.renewals import renewals_generate

    renewals_generate(today=service.next_due_date, days_ahead=0)
    invoices_mark_overdue(today=service.next_due_date + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        services_suspend_overdue(today=service.next_due_date + dt.timedelta(days=9), grace_days=7)
    Service.objects.filter(pk=service.pk).update(
        suspended_at=timezone.now() - dt.timedelta(days=settings.BILLING_TERMINATE_AFTER_DAYS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert terminate_overdue_services() == 1
    service.refresh_from_db()
    assert service.status == ServiceStatus.TERMINATED
    assert not service.invoice_lines.filter(invoice__status=InvoiceStatus.OVERDUE).exists()
    assert run_due_cancellations() == 0
