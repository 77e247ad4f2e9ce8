"""Celery wrappers: ids in, fresh state loaded, every job safe to run twice.

Only a transient gateway error (Stripe unreachable, rate-limited, failing on its
side) is retried, with backoff; a permanent one (a declined card, a request Stripe
refuses, Stripe not configured) would fail the same way again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.utils import timezone

from core.queue import enqueue
from provisioning.modules.base import ModuleError

from . import gateway
from .models import Invoice, InvoiceStatus, Service, ServiceStatus
from .services import (
    cancellations,
    credit,
    customers,
    dunning,
    invoices,
    lifecycle,
    renewals,
    scheduled_charges,
    stripe_events,
)
from .services.stripe_events import stripe_event_apply

# A request's task the broker dropped is queued again after this long.
REQUEUE_AFTER = timedelta(minutes=5)


def _retry_if_transient(
    task: Task[..., object], exc: gateway.PaymentError | ModuleError
) -> NoReturn:
    """Retries `task` with backoff when `exc` may pass (until max_retries, then `exc`
    is raised); raises `exc` at once when it is permanent."""
    if exc.permanent:
        raise exc
    countdown = get_exponential_backoff_interval(
        factor=1, retries=task.request.retries, maximum=600, full_jitter=True
    )
    raise task.retry(exc=exc, countdown=countdown)


@shared_task(bind=True, max_retries=5)
def process_stripe_event(self: Task[[int], bool], event_pk: int) -> bool:
    try:
        return stripe_event_apply(event_pk=event_pk)
    except gateway.PaymentError as exc:
        _retry_if_transient(self, exc)


@shared_task
def generate_renewal_invoices() -> int:
    ids = renewals.renewals_generate(
        today=timezone.localdate(), days_ahead=settings.BILLING_RENEWAL_DAYS_AHEAD
    )
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        credit.credit_apply_many(invoice_ids=batch)
        # Those the customer's credit paid are announced as paid, not as issued.
        unpaid = list(
            Invoice.objects.filter(pk__in=batch, status=InvoiceStatus.UNPAID).values_list(
                "pk", flat=True
            )
        )
        if unpaid:
            announce_invoices.delay(unpaid, "billing-invoice-issued")
    return len(ids)


@shared_task
def announce_invoices(invoice_ids: list[int], kind: str) -> None:
    invoices.invoices_announce(invoice_ids=invoice_ids, kind=kind)


@shared_task
def mark_overdue_and_suspend() -> dict[str, int]:
    today = timezone.localdate()
    overdue = dunning.invoices_mark_overdue(today=today)
    invoices.invoices_announce(invoice_ids=overdue, kind="billing-invoice-overdue")
    suspended = dunning.services_suspend_overdue(
        today=today, grace_days=settings.BILLING_SUSPEND_AFTER_DAYS
    )
    dunning.services_announce_suspension(service_ids=suspended)
    return {"overdue": len(overdue), "suspended": len(suspended)}


@shared_task
def send_payment_reminders() -> int:
    ids = dunning.invoices_due_for_reminder(
        today=timezone.localdate(), days_before=settings.BILLING_REMINDER_DAYS_BEFORE
    )
    invoices.invoices_announce(invoice_ids=ids, kind="billing-payment-reminder")
    return len(ids)


@shared_task
def auto_charge_due_invoices() -> int:
    ids = scheduled_charges.invoices_to_auto_charge(
        today=timezone.localdate(), max_attempts=settings.BILLING_AUTO_CHARGE_MAX_ATTEMPTS
    )
    for invoice_id in ids:
        charge_invoice.delay(invoice_id)
    return len(ids)


@shared_task
def charge_invoice(invoice_id: int) -> str:
    """No retry here: a failed attempt is retried by the next day's auto-charge run."""
    outcome = scheduled_charges.invoice_auto_charge(invoice_id=invoice_id)
    return outcome.payment.status if outcome else "skipped"


@shared_task(bind=True, max_retries=8)
def delete_stripe_customer(self: Task[[str], None], customer_id: str) -> None:
    """After an erasure: the customer and their cards go at Stripe too."""
    if not gateway.is_configured():
        return
    try:
        gateway.customer_delete(customer_id=customer_id)
    except gateway.PaymentError as exc:
        if exc.permanent:
            customers.stripe_customer_deletion_refused(customer_id=customer_id, reason=exc.message)
        _retry_if_transient(self, exc)
    customers.stripe_customer_deletion_done(customer_id=customer_id)


@shared_task
def settle_verification_holds() -> int:
    """Beat (every minute): charges held invoices whose verification case is approved."""
    return scheduled_charges.verification_holds_settle()


@shared_task
def requeue_dropped_work() -> int:
    """Beat job: queues again Stripe events and customer deletions a broker outage dropped."""
    events, deletions = stripe_events.work_dropped(before=timezone.now() - REQUEUE_AFTER)
    queued = [enqueue(process_stripe_event, pk) for pk in events]
    queued += [enqueue(delete_stripe_customer, customer_id) for customer_id in deletions]
    return sum(queued)


# --- the service lifecycle on panels -----------------------------------------


@shared_task(bind=True, max_retries=6)
def sync_service(self: Task[[int], str], service_id: int) -> str:
    """Makes the panel match the service (lifecycle.service_sync). A call that fails
    for good, or still fails after the retries, tells staff once: a set-up marks the
    service failed; a suspend, unsuspend, package change or removal keeps the error
    on the service (staff retry from admin) and is raised for the worker's log."""
    try:
        return lifecycle.service_sync(service_id=service_id)
    except ModuleError as exc:
        out_of_retries = self.max_retries is not None and self.request.retries >= self.max_retries
        gives_up = exc.permanent or out_of_retries
        status = Service.objects.values_list("status", flat=True).get(pk=service_id)
        if gives_up and status == ServiceStatus.PROVISIONING:
            lifecycle.service_provision_failed(service_id=service_id, reason=exc.message)
            return ServiceStatus.FAILED
        if gives_up:
            lifecycle.service_sync_failed(service_id=service_id, reason=exc.message)
            raise
        _retry_if_transient(self, exc)


@shared_task
def run_cancellation(service_id: int) -> bool:
    return cancellations.service_cancel_run(service_id=service_id, today=timezone.localdate())


@shared_task
def run_due_cancellations() -> int:
    ids = cancellations.cancellations_due(today=timezone.localdate())
    for service_id in ids:
        run_cancellation.delay(service_id)
    return len(ids)


@shared_task
def terminate_overdue_services() -> int:
    today = timezone.localdate()
    ids = cancellations.services_to_terminate(
        today=today, after_days=settings.BILLING_TERMINATE_AFTER_DAYS
    )
    for service_id in ids:
        cancellations.service_terminate_overdue(
            service_id=service_id, after_days=settings.BILLING_TERMINATE_AFTER_DAYS, today=today
        )
    return len(ids)


@shared_task
def refresh_service_usage() -> int:
    """Hourly: usage of active accounts, read from their panels for the service page."""
    ids = list(
        Service.objects.filter(status=ServiceStatus.ACTIVE, account__isnull=False).values_list(
            "account_id", flat=True
        )
    )
    for account_id in ids:
        refresh_account_usage.delay(account_id)
    return len(ids)


@shared_task(bind=True, max_retries=2)
def refresh_account_usage(self: Task[[int], None], account_id: int) -> None:
    from provisioning.services import account_usage_refresh

    try:
        account_usage_refresh(account_id=account_id)
    except ModuleError as exc:
        _retry_if_transient(self, exc)
