"""A suspend, unsuspend or removal the panel refuses (for good, or after the retries)
tells staff once per failure, with a link to the module log; staff sync again from
admin once the cause is fixed. The fake panel on loopback answers the generic module."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.exceptions import Retry
from django.urls import reverse

from billing.models import CancelWhen, Invoice, Service, ServiceStatus
from billing.services.cancellations import service_cancel_request
from billing.services.dunning import invoices_mark_overdue, services_suspend_overdue
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from billing.services.renewals import renewals_generate
from billing.tasks import sync_service
from notifications.models import OutboxMessage
from provisioning.models import AccountStatus
from provisioning.modules.base import ModuleError
from tests.helpers import GENERIC_SECRET, order_and_pay

KIND = "billing-staff-panel-sync-failed"


def staff_mail():
    return OutboxMessage.objects.filter(kind=KIND).order_by("pk")


def suspend_for_overdue(service, capture):
    """The overdue job suspends `service`; its panel call runs eagerly on commit."""
    with capture(execute=True):
        [renewal_id] = renewals_generate(today=service.next_due_date, days_ahead=0)
    later = service.next_due_date + dt.timedelta(days=8)
    invoices_mark_overdue(today=later)
    with capture(execute=True):
        services_suspend_overdue(today=later, grace_days=7)
    return Invoice.objects.get(pk=renewal_id)


def test_a_refused_suspension_tells_staff_once_with_the_module_log_and_staff_sync_again(
    alice, charlie, client, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    reference = f"service-{service.pk}"
    fake_panel.secret = "the panel has another secret"  # every call refused: permanent

    with pytest.raises(ModuleError, match="bad signature"):
        suspend_for_overdue(service, django_capture_on_commit_callbacks)

    service.refresh_from_db()
    assert service.status == ServiceStatus.SUSPENDED
    assert fake_panel.accounts[reference]["state"] == "active"
    assert "bad signature" in service.panel_error
    [message] = staff_mail()
    assert message.recipient == "charlie@example.com"
    assert message.subject.startswith("Suspending Cloud hosting")
    log_url = reverse("admin:provisioning_modulelog_changelist") + f"?q={reference}"
    assert log_url in message.body_text and "bad signature" in message.body_text

    # The same failure again (a repeated task) tells nobody a second time.
    with pytest.raises(ModuleError):
        sync_service.delay(service.pk)
    assert staff_mail().count() == 1

    # The link in the email opens the module log on this account's failed call.
    client.force_login(charlie)
    page = client.get(log_url).content.decode()
    assert "suspend" in page and "permanent: " in page

    fake_panel.secret = GENERIC_SECRET
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:billing_service_changelist"),
            {"action": "retry_panel_sync", "_selected_action": [service.pk]},
        )
    service.refresh_from_db()
    assert fake_panel.accounts[reference]["state"] == "suspended"
    assert service.account.status == AccountStatus.SUSPENDED
    assert (service.panel_error, service.panel_error_at) == ("", None)
    assert staff_mail().count() == 1


def test_an_unsuspension_still_failing_after_the_retries_is_a_new_failure_told_once(
    alice, charlie, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    renewal = suspend_for_overdue(service, django_capture_on_commit_callbacks)

    # A transient error is retried (eagerly the retry surfaces): nobody is told yet.
    fake_panel.fail_next = [503]
    with pytest.raises(Retry):
        with django_capture_on_commit_callbacks(execute=True):
            invoice_mark_paid_outside_stripe(invoice=renewal)
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE and service.panel_error == ""
    assert not staff_mail().exists()

    # The last retry fails too: staff are told, once.
    fake_panel.fail_next = [503, 503]
    for _ in range(2):
        with pytest.raises(ModuleError, match="503"):
            sync_service.apply(args=(service.pk,), retries=sync_service.max_retries, throw=True)
    [message] = staff_mail()
    assert message.subject.startswith("Unsuspending")
    assert fake_panel.accounts[f"service-{service.pk}"]["state"] == "suspended"


def test_a_refused_removal_tells_staff_once(
    alice, charlie, hosted_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)
    fake_panel.fail_next = [403]  # 4xx: permanent
    with pytest.raises(ModuleError, match="403"):
        with django_capture_on_commit_callbacks(execute=True):
            service_cancel_request(
                service=service, when=CancelWhen.IMMEDIATELY, reason="", actor=alice
            )
    assert Service.objects.get(pk=service.pk).status == ServiceStatus.CANCELLED
    [message] = staff_mail()
    assert message.subject.startswith("Removing Cloud hosting")
    assert f"service-{service.pk}" in fake_panel.accounts
