"""Cancelling services: the customer's request (at the end of the paid period, or at
once without refund), staff's undo while it waits, the daily run, and termination of
services left suspended for an unpaid invoice."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial

from auditlog.models import LogEntry
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import (
    PAYABLE_STATUSES,
    CancelWhen,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Service,
    ServiceStatus,
)
from billing.money import format_money
from billing.notices import tell_staff
from core.exceptions import ApplicationError
from core.links import absolute_url

from . import lifecycle
from .manual_payments import invoice_cancel

logger = logging.getLogger(__name__)

CANCELLABLE = (ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.FAILED)


@transaction.atomic
def service_cancel_request(*, service: Service, when: str, reason: str, actor: User) -> Service:
    """Records the customer's cancellation. At the end of the period it runs on the
    service's next due date (and no renewal is invoiced meanwhile); immediately, it
    runs on a worker at once. Until it runs, staff can undo it."""
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if locked.status not in CANCELLABLE:
        raise ApplicationError("This service cannot be cancelled.")
    if locked.cancel_at is not None:
        raise ApplicationError("A cancellation is already on its way.")
    today = timezone.localdate()
    if when == CancelWhen.END_OF_PERIOD and locked.next_due_date:
        cancel_at = max(locked.next_due_date, today)
    else:
        when, cancel_at = CancelWhen.IMMEDIATELY, today
    Service.objects.filter(pk=locked.pk).update(
        cancel_at=cancel_at,
        cancel_when=when,
        cancel_reason=reason[:255],
        cancel_requested_at=timezone.now(),
    )
    logger.info("Service %s: cancellation requested by user %s (%s).", locked.pk, actor.pk, when)
    if cancel_at <= today:
        # By name, so services never import the tasks that call them (no import circle).
        run_cancellation = current_app.tasks["billing.tasks.run_cancellation"]
        transaction.on_commit(partial(run_cancellation.delay, locked.pk))
    locked.refresh_from_db()
    return locked


def service_cancel_undo(*, service: Service, actor: User) -> bool:
    """Staff withdraw a cancellation that has not run yet."""
    undone = Service.objects.filter(
        pk=service.pk, cancel_at__isnull=False, status__in=CANCELLABLE
    ).update(cancel_at=None, cancel_when="", cancel_reason="", cancel_requested_at=None)
    if undone:
        logger.info("Service %s: cancellation undone by staff %s.", service.pk, actor.pk)
    return bool(undone)


def _unpaid_invoices_of(service_id: int) -> QuerySet[Invoice]:
    """The service's unpaid invoices that bill nothing else."""
    other_lines = InvoiceLine.objects.filter(invoice=OuterRef("pk")).exclude(service_id=service_id)
    return (
        Invoice.objects.filter(status__in=PAYABLE_STATUSES, lines__service_id=service_id)
        .exclude(Exists(other_lines))
        .distinct()
        .order_by("pk")
    )


def _audit(invoice: Invoice, note: str) -> None:
    """An entry in the invoice's audit trail (django-auditlog): who (the job has no
    actor), when, and why."""
    before = invoice.status
    invoice.refresh_from_db(fields=["status"])
    LogEntry.objects.log_create(
        invoice,
        action=LogEntry.Action.UPDATE,
        changes={"status": [before, invoice.status]} if before != invoice.status else {},
        additional_data={"note": note},
        force_log=True,
    )


def _cancel(invoice: Invoice, note: str) -> bool:
    try:
        cancelled = invoice_cancel(invoice=invoice)
    except ApplicationError as exc:  # a card payment in flight: staff decide
        logger.warning("Invoice %s left open: %s", invoice.number, exc.message)
        return False
    if cancelled:
        _audit(invoice, note)
    return cancelled


def _end(*, service_id: int, job: str, reason: str) -> bool:
    """Cancels the service (its account is then removed by a worker) and its unpaid
    invoices that bill nothing else."""
    with transaction.atomic():
        moved = lifecycle.service_transition(
            service_id=service_id, to=ServiceStatus.CANCELLED, job=job, reason=reason
        )
        if moved:
            Service.objects.filter(pk=service_id).update(cancel_at=None)
            lifecycle.sync_later([service_id])
    if moved:
        for invoice in _unpaid_invoices_of(service_id):
            _cancel(invoice, f"Cancelled with its service: {reason}.")
    return moved


def service_cancel_run(*, service_id: int, today: dt.date) -> bool:
    """Runs a due cancellation; a withdrawn or not yet due one does nothing."""
    service = Service.objects.filter(
        pk=service_id, cancel_at__lte=today, status__in=CANCELLABLE
    ).first()
    if service is None:
        return False
    when = CancelWhen(service.cancel_when or CancelWhen.IMMEDIATELY).label.lower()
    reason = f"cancelled by the customer ({when})"
    if service.cancel_reason:
        reason += f": {service.cancel_reason}"
    return _end(service_id=service.pk, job="run_cancellation", reason=reason)


def cancellations_due(*, today: dt.date) -> list[int]:
    return list(
        Service.objects.filter(cancel_at__lte=today, status__in=CANCELLABLE).values_list(
            "pk", flat=True
        )
    )


def services_to_terminate(*, today: dt.date, after_days: int) -> list[int]:
    """Services suspended more than `after_days` days that still have an overdue invoice."""
    overdue_line = InvoiceLine.objects.filter(
        service=OuterRef("pk"), invoice__status=InvoiceStatus.OVERDUE
    )
    cutoff = timezone.make_aware(
        dt.datetime.combine(today - dt.timedelta(days=after_days), dt.time.min)
    )
    return list(
        Service.objects.filter(status=ServiceStatus.SUSPENDED, suspended_at__lt=cutoff)
        .filter(Exists(overdue_line))
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class OverdueTermination:
    """What terminating a service for non-payment did to its unpaid invoices."""

    kept: list[Invoice]
    cancelled: list[Invoice]


def service_terminate_overdue(
    *, service_id: int, after_days: int, today: dt.date
) -> OverdueTermination | None:
    """Ends a service left suspended more than `after_days` days for an unpaid invoice.

    Its unpaid invoices for periods already begun follow
    BILLING_OVERDUE_TERMINATION_INVOICES: "keep" leaves them owed (the customer had
    the service), "write_off" cancels them; invoices for periods not begun yet are
    cancelled either way. Each invoice gets an audit entry saying why, and staff are
    told once. Returns None when the service was not ended (already, or not allowed).
    """
    reason = f"suspended more than {after_days} days for an unpaid invoice"
    with transaction.atomic():
        try:
            moved = lifecycle.service_transition(
                service_id=service_id,
                to=ServiceStatus.CANCELLED,
                job="terminate_overdue_services",
                reason=reason,
            )
        except ApplicationError:  # ended meanwhile (terminated, say)
            return None
        if not moved:
            return None
        Service.objects.filter(pk=service_id).update(cancel_at=None)
        lifecycle.sync_later([service_id])
    write_off = settings.BILLING_OVERDUE_TERMINATION_INVOICES == "write_off"
    kept: list[Invoice] = []
    cancelled: list[Invoice] = []
    for invoice in _unpaid_invoices_of(service_id):
        begun = invoice.lines.filter(service_id=service_id, period_start__lte=today).exists()
        if begun and not write_off:
            _audit(
                invoice,
                f"Kept as owed: its service was terminated ({reason}); "
                "BILLING_OVERDUE_TERMINATION_INVOICES=keep.",
            )
            kept.append(invoice)
        else:
            why = "written off" if begun else "its period had not begun"
            if _cancel(invoice, f"Cancelled ({why}): its service was terminated ({reason})."):
                cancelled.append(invoice)
            else:
                kept.append(invoice)
    _tell_staff_of_termination(service_id=service_id, reason=reason, kept=kept, cancelled=cancelled)
    return OverdueTermination(kept=kept, cancelled=cancelled)


def _invoice_summary(invoices: list[Invoice]) -> str:
    return ", ".join(
        f"{invoice.number} ({format_money(invoice.total, invoice.currency)})"
        for invoice in invoices
    )


def _tell_staff_of_termination(
    *, service_id: int, reason: str, kept: list[Invoice], cancelled: list[Invoice]
) -> None:
    service = Service.objects.select_related("product", "user").get(pk=service_id)
    tell_staff(
        kind="billing-staff-service-terminated-overdue",
        context={
            "service_name": service.product.name,
            "customer": service.user.email,
            "reason": reason,
            "kept": _invoice_summary(kept),
            "cancelled": _invoice_summary(cancelled),
            "policy": settings.BILLING_OVERDUE_TERMINATION_INVOICES,
            "service_admin_url": absolute_url(
                reverse("admin:billing_service_change", args=[service.pk])
            ),
        },
    )
