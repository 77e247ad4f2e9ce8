"""What an invoice prints, read for its page, its PDF and the GDPR export's copy: the
grouped lines, the seller, the words for its tax, and the page's extras."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet

from accounts.models import User

from .models import CreditNote, HoldStatus, Invoice, InvoiceLine, Payment, VerificationHold
from .money import format_money


@dataclass(frozen=True)
class PrintedLine:
    """A line as the invoice prints it: identical items are one line with a quantity."""

    description: str
    quantity: int
    unit_amount: int
    amount: int


def printed_lines(lines: list[InvoiceLine]) -> list[PrintedLine]:
    """Lines with the same description, unit price and period become one line whose
    quantity and amount are their sums, in the order they first appear.

    Stored lines stay one per service (each paid line starts its own service and
    keeps renewals idempotent); only the document groups them.
    """
    grouped: dict[tuple[object, ...], PrintedLine] = {}
    for line in lines:
        key = (line.description, line.unit_amount, line.period_start, line.period_end)
        seen = grouped.get(key)
        grouped[key] = PrintedLine(
            description=line.description,
            quantity=line.quantity + (seen.quantity if seen else 0),
            unit_amount=line.unit_amount,
            amount=line.amount + (seen.amount if seen else 0),
        )
    return list(grouped.values())


def seller_identity() -> dict[str, str]:
    """Who issues our invoices, from settings: name, postal address, VAT and company numbers."""
    return {
        "name": settings.BILLING_SELLER_NAME,
        "address": settings.BILLING_SELLER_ADDRESS,
        "vat_number": settings.BILLING_SELLER_VAT_NUMBER,
        "company_number": settings.BILLING_SELLER_COMPANY_NUMBER,
    }


def tax_basis(invoice: Invoice) -> str:
    """Why the invoice carries the tax it does, in words (docs/billing.md, "Invoices")."""
    country = invoice.billing_country.name if invoice.billing_country else "the customer's country"
    if invoice.reverse_charge:
        seller_vat = settings.BILLING_SELLER_VAT_NUMBER or "not set"
        return (
            f"Reverse charge: no {invoice.tax_name or 'VAT'} charged; VAT to be accounted for "
            "by the recipient (Article 196, Council Directive 2006/112/EC). "
            f"Supplier VAT number {seller_vat}; customer VAT number {invoice.vat_number}."
        )
    if invoice.tax_name:
        rate = f"{invoice.tax_rate.normalize():f}"
        return (
            f"{invoice.tax_name} charged at {rate}% on the subtotal of "
            f"{format_money(invoice.subtotal, invoice.currency)}, the rate for customers in "
            f"{country}."
        )
    return f"No tax charged: no tax rate applies to customers in {country}."


def invoice_document(*, invoice: Invoice) -> dict[str, Any]:
    """Everything the invoice page and its PDF print, in two queries: none when lines and
    credit_notes are prefetched (the GDPR export), one without credit notes to read."""
    has_credit_notes = getattr(invoice, "has_credit_notes", True)
    return {
        "invoice": invoice,
        "lines": printed_lines(list(invoice.lines.all())),
        "credit_notes": list(invoice.credit_notes.all()) if has_credit_notes else [],
        "seller": seller_identity(),
        "tax_basis": tax_basis(invoice),
    }


def _invoice_pages() -> QuerySet[Invoice]:
    outer = models.OuterRef("pk")
    payments = Payment.objects.filter(invoice=outer).order_by("-attempt")
    holds = VerificationHold.objects.filter(invoice=outer, status=HoldStatus.WAITING)
    return Invoice.objects.annotate(
        last_payment_status=models.Subquery(payments.values("status")[:1]),
        last_payment_failure=models.Subquery(payments.values("failure_message")[:1]),
        hold_case_id=models.Subquery(holds.order_by("pk").values("case_id")[:1]),
        has_credit_notes=models.Exists(CreditNote.objects.filter(invoice=outer)),
    )


# Resolving the annotations costs as much as a query's own SQL: done once per process
# (never evaluated itself; each use filters a copy).
INVOICE_PAGES = _invoice_pages()


def customer_invoice_pages(*, user: User) -> QuerySet[Invoice]:
    """The customer's invoices with what their page shows besides the document, in the
    same query: the last payment's outcome, a waiting hold's case, any credit notes."""
    return INVOICE_PAGES.filter(user=user)
