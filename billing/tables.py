"""The rows of the client area's invoice and service lists, written in Python.

The same markup the rows' template partials gave (tests/billing/test_tables.py compares
them, a hostile product name included): through `{% include %}` each row cost about
0.6 M instructions, 30 of the invoice list's 48 M. Every value from the database is
escaped as autoescape would, with html.escape (Django's escape without its lazy-string
wrapper, which cost more than the escaping itself); the rest are our own constants, so
the joined rows are safe. Each list reads only the columns its rows show
(`.values(*COLUMNS)`), not whole model instances."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from html import escape
from typing import Any

from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from core.paging import counted
from core.rows import day_month_year, link_for

from .models import BillingCycle, Invoice, InvoiceStatus, ServiceStatus
from .money import format_money

INVOICE_COLUMNS = ("pk", "number", "issued_on", "due_date", "total", "currency", "status")
SERVICE_COLUMNS = ("pk", "product__name", "status", "amount", "currency", "cycle", "next_due_date")

# Resolving the window costs about 1 M instructions: done once per process. Never
# evaluated itself, each request filters a copy.
_INVOICE_ROWS: QuerySet[Invoice, dict[str, Any]] = counted(
    Invoice.objects.order_by("-year", "-sequence").values(*INVOICE_COLUMNS)
)
_INVOICE_STATUS = dict(InvoiceStatus.choices)
_SERVICE_STATUS = dict(ServiceStatus.choices)
_CYCLE = {value: str(label).lower() for value, label in BillingCycle.choices}


def customer_invoice_rows(*, user: User) -> QuerySet[Invoice, dict[str, Any]]:
    """The customer's invoices, newest first, as rows of INVOICE_COLUMNS with the count
    of all of them (core.paging.counted)."""
    return _INVOICE_ROWS.filter(user=user)


def invoice_rows(invoices: Iterable[Mapping[str, Any]]) -> SafeString:
    """One <tr> per invoice (a row of INVOICE_COLUMNS): number linking to the invoice,
    issue and due dates, total, and the status as a badge (paid is the calm one)."""
    detail = link_for("billing:invoice_detail")
    return mark_safe("".join(_invoice_row(row, detail) for row in invoices))  # noqa: S308


def _invoice_row(row: Mapping[str, Any], detail: Callable[[object], str]) -> str:
    badge = "badge--ok" if row["status"] == InvoiceStatus.PAID else "badge--warn"
    status = _INVOICE_STATUS.get(row["status"], row["status"])
    total = format_money(row["total"] or 0, row["currency"])
    return (
        f'<tr><td data-label="Number"><a href="{escape(detail(row["pk"]))}">'
        f"{escape(row['number'])}</a></td>"
        f'<td data-label="Issued">{day_month_year(row["issued_on"])}</td>'
        f'<td data-label="Due">{day_month_year(row["due_date"])}</td>'
        f'<td data-label="Total">{escape(total)}</td>'
        f'<td data-label="Status"><span class="badge {badge}">{escape(status)}</span></td></tr>'
    )


def service_rows(services: Iterable[Mapping[str, Any]]) -> SafeString:
    """One <tr> per service (a row of SERVICE_COLUMNS): the plan's name linking to the
    service, its status as a badge (active is the calm one), price per cycle, next due
    date ("After payment" before the first one)."""
    detail = link_for("billing:service_detail")
    return mark_safe("".join(_service_row(row, detail) for row in services))  # noqa: S308


def _service_row(row: Mapping[str, Any], detail: Callable[[object], str]) -> str:
    badge = "badge--ok" if row["status"] == ServiceStatus.ACTIVE else "badge--warn"
    status = _SERVICE_STATUS.get(row["status"], row["status"])
    price = format_money(row["amount"] or 0, row["currency"])
    cycle = _CYCLE.get(row["cycle"], row["cycle"])
    due = day_month_year(row["next_due_date"]) or "After payment"
    return (
        f'<tr><td data-label="Service"><a href="{escape(detail(row["pk"]))}">'
        f"{escape(row['product__name'])}</a></td>"
        f'<td data-label="Status"><span class="badge {badge}">{escape(status)}</span></td>'
        f'<td data-label="Price">{escape(price)} {escape(cycle)}</td>'
        f'<td data-label="Next due">{due}</td></tr>'
    )
