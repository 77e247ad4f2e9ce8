"""What billing holds about a customer, for GDPR export and erasure (privacy/ calls these).

Erasure keeps invoices and credit notes: tax law requires keeping them, with the
customer's name, address and VAT number, for the retention period (e.g. 6 years in
the UK and Ireland, 10 in Germany). What the law does not require goes: the
email copied on invoices, saved cards (here and at Stripe), the Stripe customer,
the VAT number on the account, and personal details inside stored Stripe events.
Services are cancelled so nothing renews or charges an erased customer.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Prefetch, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.personal import ErasureBlocker, ExportFile
from core.queue import enqueue_on_commit

from . import documents, gateway
from .models import (
    OPEN_DISPUTE,
    PAYABLE_STATUSES,
    BillingAccount,
    CreditBalance,
    CreditEntry,
    CreditNote,
    Invoice,
    InvoiceLine,
    Order,
    Payment,
    PaymentMethod,
    Service,
    ServiceStatus,
    ServiceTransition,
    StripeCustomerDeletion,
    StripeEvent,
    VerificationHold,
)
from .money import format_money
from .pdf import html_to_pdf
from .services import lifecycle

# What export and erase below reach (privacy/discovery.py checks every model is somewhere).
MODELS = (
    BillingAccount,
    CreditBalance,
    CreditEntry,
    Order,
    Service,
    ServiceTransition,
    Invoice,
    CreditNote,
    Payment,
    PaymentMethod,
    StripeEvent,
    VerificationHold,
)


def _date(value: Any) -> str:
    return value.isoformat() if value else ""


def export(user: User) -> dict[str, Callable[[], Any]]:
    """Each category as a function, so the export builds and writes one at a time
    (the invoices of a long-standing customer are the largest)."""
    account = BillingAccount.objects.filter(user=user).first()
    return {
        "billing_account": lambda: {
            "vat_number": account.vat_number if account else "",
            "stripe_customer_id": account.stripe_customer_id if account else "",
        },
        "credit": lambda: {
            "balances": [
                format_money(b.amount, b.currency)
                for b in CreditBalance.objects.filter(user=user).order_by("currency")
            ],
            "entries": [
                {
                    "at": _date(e.created_at),
                    "kind": e.kind,
                    "amount": format_money(e.amount, e.currency),
                    "balance_after": format_money(e.balance_after, e.currency),
                    "note": e.note,
                }
                for e in CreditEntry.objects.filter(user=user).order_by("pk")
            ],
        },
        "orders": lambda: [
            {
                "id": o.pk,
                "created_at": _date(o.created_at),
                "currency": o.currency,
                "status": o.status,
            }
            for o in Order.objects.filter(user=user).order_by("pk")
        ],
        "services": lambda: [
            {
                "id": s.pk,
                "product": s.product.name,
                "cycle": s.cycle,
                "price": format_money(s.amount, s.currency),
                "currency": s.currency,
                "status": s.status,
                "next_due_date": _date(s.next_due_date),
                "history": [
                    {
                        "from": t.from_status,
                        "to": t.to_status,
                        "why": t.reason,
                        "at": _date(t.created_at),
                    }
                    for t in s.transitions.all()
                ],
            }
            for s in Service.objects.filter(user=user)
            .select_related("product")
            .prefetch_related(
                Prefetch("transitions", queryset=ServiceTransition.objects.order_by("pk"))
            )
            .order_by("pk")
        ],
        "invoices": lambda: [
            {
                "number": i.number,
                "issued_on": _date(i.issued_on),
                "due_date": _date(i.due_date),
                "status": i.status,
                "currency": i.currency,
                "subtotal": format_money(i.subtotal, i.currency),
                "tax": format_money(i.tax_amount, i.currency),
                "total": format_money(i.total, i.currency),
                "pdf": _pdf_path(i),
                "billed_to": {
                    "name": i.billing_name,
                    "business": i.billing_business,
                    "address": i.billing_address,
                    "country": str(i.billing_country),
                    "email": i.billing_email,
                    "vat_number": i.vat_number,
                },
                "lines": [
                    {
                        "description": line.description,
                        "quantity": line.quantity,
                        "unit_price": format_money(line.unit_amount, i.currency),
                        "amount": format_money(line.amount, i.currency),
                    }
                    for line in i.lines.all()
                ],
            }
            for i in Invoice.objects.filter(user=user)
            .prefetch_related("lines")
            .order_by("pk")
            .iterator(chunk_size=200)
        ],
        "credit_notes": lambda: [
            {
                "number": c.number,
                "invoice": c.invoice.number,
                "amount": format_money(c.amount, c.currency),
                "currency": c.currency,
                "issued_on": _date(c.issued_on),
            }
            for c in CreditNote.objects.filter(invoice__user=user).select_related("invoice")
        ],
        "payments": lambda: [
            {
                "invoice": p.invoice.number,
                "attempt": p.attempt,
                "amount": format_money(p.amount, p.currency),
                "currency": p.currency,
                "status": p.status,
                "failure": p.failure_message,
                "created_at": _date(p.created_at),
            }
            for p in Payment.objects.filter(invoice__user=user).select_related("invoice")
        ],
        "stripe": lambda: _stripe(account.stripe_customer_id if account else ""),
        # Only what we keep about cards: the card number never reaches us.
        "cards": lambda: [
            {
                "brand": c.brand,
                "last4": c.last4,
                "expiry": f"{c.exp_month:02d}/{c.exp_year}",
                "country": c.country,
                "default": c.is_default,
            }
            for c in PaymentMethod.objects.filter(user=user).order_by("pk")
        ],
    }


def _stripe(customer_id: str) -> dict[str, Any]:
    """What Stripe holds about the customer, asked through the gateway."""
    if not customer_id:
        return {"customer": None, "note": "We never created a Stripe customer for you."}
    if not gateway.is_configured():
        return {"customer": None, "note": "Stripe is not configured on this site."}
    customer = gateway.customer_retrieve(customer_id=customer_id)
    if customer is None:
        return {"customer": None, "note": "Stripe no longer holds a customer for you."}
    return {
        "customer": {
            "id": customer.id,
            "email": customer.email,
            "name": customer.name,
            "phone": customer.phone,
            "address": customer.address,
            "created": customer.created,
            "metadata": customer.metadata,
        },
        "payment_methods": [
            {
                "id": card.payment_method_id,
                "brand": card.brand,
                "last4": card.last4,
                "expiry": f"{card.exp_month:02d}/{card.exp_year}",
                "country": card.country,
            }
            for card in customer.cards
        ],
    }


def _pdf_path(invoice: Invoice) -> str:
    """Where the invoice's PDF is in the export zip; export.json names the same path."""
    return f"invoices/{invoice.number}.pdf"


def export_files(user: User) -> Iterator[ExportFile]:
    """Each invoice as the PDF the customer downloads, rendered when the zip is written."""
    seller = {
        "name": settings.BILLING_SELLER_NAME,
        "address": settings.BILLING_SELLER_ADDRESS,
        "vat_number": settings.BILLING_SELLER_VAT_NUMBER,
    }
    # Prefetched per chunk of 200: the PDFs of a chunk cost four queries, not three each.
    invoices = (
        Invoice.objects.filter(user=user)
        .prefetch_related("lines", "credit_notes", "payments")
        .order_by("pk")
        .iterator(chunk_size=200)
    )
    for invoice in invoices:

        def render(invoice: Invoice = invoice) -> io.BytesIO:
            context = {**documents.invoice_document(invoice=invoice), "seller": seller}
            return io.BytesIO(html_to_pdf(render_to_string("billing/invoice_pdf.html", context)))

        yield ExportFile(path=_pdf_path(invoice), open=render)


def erasure_blockers(user: User) -> list[ErasureBlocker]:
    """What must be settled before billing lets the customer go: money owed, money
    contested, and services that would otherwise stop without notice."""
    blockers = []
    unpaid = Invoice.objects.filter(user=user, status__in=PAYABLE_STATUSES).count()
    if unpaid:
        blockers.append(
            ErasureBlocker(
                reason=f"{unpaid} invoice{'s are' if unpaid > 1 else ' is'} unpaid.",
                how_to_clear="Pay the unpaid invoices (or ask us to cancel them).",
                url=reverse("billing:invoices"),
            )
        )
    # Open until Stripe says the dispute closed (won, lost or an inquiry closed): until
    # then we owe the bank the order's evidence, which the erasure would take away.
    disputed = list(
        Payment.objects.filter(OPEN_DISPUTE, invoice__user=user)
        .order_by("pk")
        .values_list("invoice__number", flat=True)
    )
    if disputed:
        blockers.append(
            ErasureBlocker(
                reason=(
                    f"The payment of invoice {', '.join(disputed)} is disputed with your bank"
                    " and the dispute is not closed yet."
                ),
                how_to_clear=(
                    "Wait for your bank's decision, or withdraw the dispute with your bank; "
                    "you can erase once it is closed. Contact support to settle it sooner."
                ),
                url=reverse("billing:invoices"),
            )
        )
    active = Service.objects.filter(
        user=user, status__in=[ServiceStatus.ACTIVE, ServiceStatus.SUSPENDED, ServiceStatus.PENDING]
    ).count()
    if active:
        blockers.append(
            ErasureBlocker(
                reason=f"{active} service{'s are' if active > 1 else ' is'} still active.",
                how_to_clear=(
                    "Ask support to cancel your services, or let them lapse at the end of"
                    " their term."
                ),
                url=reverse("billing:services"),
            )
        )
    return blockers


@transaction.atomic
def erase(user: User) -> None:
    """Erases what billing may erase; idempotent. The Stripe customer is deleted on commit
    by a worker (with retries), which detaches its cards at Stripe; the request is kept
    as a StripeCustomerDeletion row, so a broker outage only delays it."""
    from .tasks import delete_stripe_customer

    account = BillingAccount.objects.select_for_update().filter(user=user).first()
    customer_id = account.stripe_customer_id if account else ""
    PaymentMethod.objects.filter(user=user).delete()
    # Changes they made keep their record, no longer their name.
    ServiceTransition.objects.filter(actor=user).update(actor=None)
    CreditEntry.objects.filter(actor=user).update(actor=None)
    # Erased customers' services end, and come off their panels (on a worker).
    ended = lifecycle.services_transition(
        ids=Service.objects.filter(user=user).values_list("pk", flat=True),
        to=ServiceStatus.CANCELLED,
        job="privacy_erasure",
        reason="the customer's data was erased",
    )
    lifecycle.sync_later(ended)
    Invoice.objects.filter(user=user).update(billing_email="")
    _audit_trail_scrub(user)
    if customer_id:
        StripeEvent.objects.filter(
            Q(payload__data__object__customer=customer_id)
            | Q(payload__data__object__id=customer_id)
        ).update(payload={"redacted": "customer erased", "at": timezone.now().isoformat()})
        StripeCustomerDeletion.objects.get_or_create(customer_id=customer_id)
        enqueue_on_commit(delete_stripe_customer, customer_id)
    if account is not None:
        account.vat_number = ""
        account.stripe_customer_id = ""
        account.save(update_fields=["vat_number", "stripe_customer_id"])


def _audit_trail_scrub(user: User) -> None:
    """django-auditlog's entries for the customer's invoices, lines and payments repeat the
    customer snapshot (name, email, address) in their diffs: the entries stay (who, when,
    which action on which document), their diffs and the request's address go."""
    documents = {
        Invoice: Invoice.objects.filter(user=user).values_list("pk", flat=True),
        InvoiceLine: InvoiceLine.objects.filter(invoice__user=user).values_list("pk", flat=True),
        Payment: Payment.objects.filter(invoice__user=user).values_list("pk", flat=True),
    }
    for model, pks in documents.items():
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_pk__in=[str(pk) for pk in pks],
        ).update(
            changes=None,
            changes_text="",
            serialized_data=None,
            additional_data=None,
            remote_addr=None,
            remote_port=None,
        )
