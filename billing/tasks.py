"""Celery wrappers: ids in, fresh state loaded, every job safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import gateway, services
from .webhooks import stripe_event_apply


@shared_task(
    autoretry_for=(gateway.PaymentError,),
    retry_backoff=True,
    max_retries=5,
)
def process_stripe_event(event_pk: int) -> bool:
    return stripe_event_apply(event_pk=event_pk)


@shared_task
def generate_renewal_invoices() -> int:
    ids = services.renewals_generate(
        today=timezone.localdate(), days_ahead=settings.BILLING_RENEWAL_DAYS_AHEAD
    )
    for start in range(0, len(ids), 500):
        announce_invoices.delay(ids[start : start + 500], "billing-invoice-issued")
    return len(ids)


@shared_task
def announce_invoices(invoice_ids: list[int], kind: str) -> None:
    services.invoices_announce(invoice_ids=invoice_ids, kind=kind)


@shared_task
def mark_overdue_and_suspend() -> dict[str, int]:
    today = timezone.localdate()
    overdue = services.invoices_mark_overdue(today=today)
    services.invoices_announce(invoice_ids=overdue, kind="billing-invoice-overdue")
    suspended = services.services_suspend_overdue(
        today=today, grace_days=settings.BILLING_SUSPEND_AFTER_DAYS
    )
    services.services_announce_suspension(service_ids=suspended)
    return {"overdue": len(overdue), "suspended": len(suspended)}


@shared_task
def send_payment_reminders() -> int:
    ids = services.invoices_due_for_reminder(
        today=timezone.localdate(), days_before=settings.BILLING_REMINDER_DAYS_BEFORE
    )
    services.invoices_announce(invoice_ids=ids, kind="billing-payment-reminder")
    return len(ids)


@shared_task
def auto_charge_due_invoices() -> int:
    ids = services.invoices_to_auto_charge(
        today=timezone.localdate(), max_attempts=settings.BILLING_AUTO_CHARGE_MAX_ATTEMPTS
    )
    for invoice_id in ids:
        charge_invoice.delay(invoice_id)
    return len(ids)


@shared_task
def charge_invoice(invoice_id: int) -> str:
    outcome = services.invoice_auto_charge(invoice_id=invoice_id)
    return outcome.payment.status if outcome else "skipped"


@shared_task(autoretry_for=(gateway.PaymentError,), retry_backoff=True, max_retries=8)
def delete_stripe_customer(customer_id: str) -> None:
    """After an erasure: the customer and their cards go at Stripe too."""
    if gateway.is_configured():
        gateway.customer_delete(customer_id=customer_id)
