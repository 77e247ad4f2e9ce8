"""What staff did to an invoice, through django-auditlog: entries for the state changes
the services make with a conditional UPDATE (no signal auditlog could hear), and the
invoice's trail as the admin shows it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from .models import CreditNote, Invoice, InvoiceLine, Payment
from .money import format_money


def audit_status_change(*, invoice: Invoice, before: str, note: str, always: bool = False) -> None:
    """An audit entry for a state change the services make with a conditional UPDATE
    (which sends no signal auditlog could hear): who (the request's staff member), when,
    and the status before and after. With `always`, written even when the status stayed
    (a partial credit), since the note says what staff did."""
    invoice.refresh_from_db(fields=["status"])
    if invoice.status != before or always:
        LogEntry.objects.log_create(
            invoice,
            action=LogEntry.Action.UPDATE,
            changes={"status": [before, invoice.status]},
            additional_data={"note": note},
            force_log=True,
        )


@dataclass(frozen=True)
class AuditRow:
    when: dt.datetime
    who: str
    what: str
    changes: str


# Amounts in the audit trail are shown as money, like everywhere else staff look.
MONEY_FIELDS = {"amount", "subtotal", "tax_amount", "total", "unit_amount"}


def _audit_changes(entry: LogEntry, currency: str) -> str:
    def shown(field: str, value: object) -> str:
        if field in MONEY_FIELDS and str(value).isdigit():
            return format_money(int(str(value)), currency)
        return str(value)

    return "; ".join(
        f"{field}: {shown(field, old)} → {shown(field, new)}"
        for field, (old, new) in entry.changes_dict.items()
    )


def invoice_audit_trail(invoice: Invoice, limit: int = 50) -> list[AuditRow]:
    """django-auditlog's entries for an invoice, its lines, payments and credit notes,
    newest first: who, when, what, and the changes with amounts as money. One query."""
    kinds = ContentType.objects.get_for_models(Invoice, InvoiceLine, Payment, CreditNote)
    related = {
        InvoiceLine: InvoiceLine.objects.filter(invoice_id=invoice.pk),
        Payment: Payment.objects.filter(invoice_id=invoice.pk),
        CreditNote: CreditNote.objects.filter(invoice_id=invoice.pk),
    }
    where = Q(content_type=kinds[Invoice], object_id=invoice.pk)
    for model, rows in related.items():
        where |= Q(content_type=kinds[model], object_id__in=rows.values("pk"))
    entries = (
        LogEntry.objects.filter(where)
        .select_related("actor", "content_type")
        .order_by("-timestamp", "-pk")[:limit]
    )
    return [
        AuditRow(
            when=entry.timestamp,
            who=str(entry.actor) if entry.actor else "system",
            what=": ".join(
                part
                for part in (
                    f"{entry.get_action_display()} {entry.content_type.name}",
                    (entry.additional_data or {}).get("note", ""),
                )
                if part
            ),
            changes=_audit_changes(entry, invoice.currency),
        )
        for entry in entries
    ]
