"""Dunning, the beat jobs that chase unpaid invoices: reminders before the due date,
overdue after it, and suspending the services of invoices overdue past the grace
period (with the customers told)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Service,
    ServiceStatus,
)
from billing.notices import tell_customer
from core.links import absolute_url

from . import lifecycle


@transaction.atomic
def invoices_mark_overdue(*, today: dt.date) -> list[int]:
    """Unpaid invoices past their due date become overdue. Idempotent; returns the ids
    changed by this run."""
    ids = list(
        Invoice.objects.select_for_update(skip_locked=True)
        .filter(status=InvoiceStatus.UNPAID, due_date__lt=today)
        .values_list("pk", flat=True)
    )
    Invoice.objects.filter(pk__in=ids, status=InvoiceStatus.UNPAID).update(
        status=InvoiceStatus.OVERDUE
    )
    return ids


@transaction.atomic
def services_suspend_overdue(*, today: dt.date, grace_days: int) -> list[int]:
    """Suspends active services whose invoice has been overdue more than `grace_days`,
    each change recorded, and queues the panel's suspension.

    Set-based and idempotent: returns the ids suspended by this run.
    """
    overdue_line = InvoiceLine.objects.filter(
        service=OuterRef("pk"),
        invoice__status=InvoiceStatus.OVERDUE,
        invoice__due_date__lt=today - dt.timedelta(days=grace_days),
    )
    ids = Service.objects.filter(status=ServiceStatus.ACTIVE).filter(Exists(overdue_line))
    suspended = lifecycle.services_transition(
        ids=ids.values_list("pk", flat=True),
        to=ServiceStatus.SUSPENDED,
        job="mark_overdue_and_suspend",
        reason=f"an invoice overdue more than {grace_days} days",
    )
    lifecycle.sync_later(suspended)
    return suspended


def services_announce_suspension(*, service_ids: list[int]) -> None:
    """Tells each customer which service was suspended and why."""
    for service in Service.objects.filter(pk__in=service_ids).select_related("user", "product"):
        tell_customer(
            user=service.user,
            kind="billing-service-suspended",
            context={
                "service_name": service.product.name,
                "invoices_url": absolute_url(reverse("billing:invoices")),
            },
        )


@transaction.atomic
def invoices_due_for_reminder(*, today: dt.date, days_before: int) -> list[int]:
    """Claims the unpaid invoices due within `days_before` days that had no reminder yet.

    The claim (reminder_sent_at) is written in the same statement, so a second run
    reminds nobody twice.
    """
    ids = list(
        Invoice.objects.select_for_update(skip_locked=True)
        .filter(
            status=InvoiceStatus.UNPAID,
            reminder_sent_at__isnull=True,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=days_before),
        )
        .values_list("pk", flat=True)
    )
    Invoice.objects.filter(pk__in=ids).update(reminder_sent_at=timezone.now())
    return ids
