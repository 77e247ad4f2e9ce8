"""Customer credit: a balance per currency and a ledger of every change.

Credit comes from downgrades (the prorated difference, docs/billing.md) and from staff;
it goes to the customer's next invoices on its own: an invoice issued in a currency the
customer has credit in takes what it can (`credit_apply`), shown on it as "Credit
applied", and is paid when that covers it all. Every change locks the customer's
balance row, so two at once never spend the same credit or take it below zero.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from billing.models import (
    CreditBalance,
    CreditEntry,
    CreditKind,
    Invoice,
    InvoiceStatus,
    Service,
)
from billing.money import format_money
from core.exceptions import ApplicationError

from .invoices import invoice_mark_paid


def balances_cache_key(user_id: int) -> str:
    """Where the customer's balances are cached for their pages (cleared on change)."""
    return f"billing:credit-balances:{user_id}"


def _locked_balance(*, user_id: int, currency: str) -> CreditBalance:
    CreditBalance.objects.get_or_create(user_id=user_id, currency=currency)
    return CreditBalance.objects.select_for_update().get(user_id=user_id, currency=currency)


def _post(
    *,
    balance: CreditBalance,
    amount: int,
    kind: str,
    note: str,
    invoice: Invoice | None = None,
    service: Service | None = None,
    actor: User | None = None,
) -> CreditEntry:
    """One ledger entry and the balance moved by it, on a locked balance row."""
    after = balance.amount + amount
    if after < 0:
        raise ApplicationError(
            f"The credit balance is {format_money(balance.amount, balance.currency)}; "
            f"{format_money(-amount, balance.currency)} cannot be taken from it."
        )
    CreditBalance.objects.filter(pk=balance.pk).update(amount=after, updated_at=timezone.now())
    balance.amount = after
    key = balances_cache_key(balance.user_id)
    transaction.on_commit(lambda: cache.delete(key))
    # Created through the ORM, so django-auditlog records it (with the request's staff
    # member as actor, through its middleware).
    return CreditEntry.objects.create(
        user_id=balance.user_id,
        currency=balance.currency,
        amount=amount,
        balance_after=after,
        kind=kind,
        note=note[:255],
        invoice=invoice,
        service=service,
        actor=actor,
    )


@transaction.atomic
def credit_add_for_downgrade(*, service: Service, amount: int, note: str) -> CreditEntry | None:
    """Credits a downgrade's prorated difference to the service's customer. Runs in
    the caller's transaction (the change being applied, which happens once)."""
    if amount <= 0:
        return None
    balance = _locked_balance(user_id=service.user_id, currency=service.currency)
    return _post(
        balance=balance, amount=amount, kind=CreditKind.DOWNGRADE, note=note, service=service
    )


@transaction.atomic
def credit_adjust(*, user: User, currency: str, amount: int, note: str, actor: User) -> CreditEntry:
    """Staff add (amount > 0) or remove (amount < 0) credit, saying why. Removing more
    than the balance is refused. Invoices already issued are not touched: the credit
    goes to the next ones."""
    if amount == 0:
        raise ApplicationError("Enter an amount other than zero.")
    if not note.strip():
        raise ApplicationError("Say why: the note is kept with the entry.")
    balance = _locked_balance(user_id=user.pk, currency=currency)
    return _post(
        balance=balance, amount=amount, kind=CreditKind.STAFF, note=note.strip(), actor=actor
    )


@transaction.atomic
def credit_return_for_refund(*, invoice: Invoice) -> CreditEntry | None:
    """An invoice refunded in full gives back the credit it took: the card part went
    back through Stripe, this is the rest. Runs in the caller's transaction, which
    marks the invoice refunded (once)."""
    if invoice.credit_applied <= 0 or invoice.user_id is None:
        return None
    balance = _locked_balance(user_id=invoice.user_id, currency=invoice.currency)
    return _post(
        balance=balance,
        amount=invoice.credit_applied,
        kind=CreditKind.RETURNED,
        note=f"Invoice {invoice.number} refunded",
        invoice=invoice,
    )


@transaction.atomic
def credit_apply(*, invoice_id: int) -> int:
    """Takes what it can of the customer's credit in the invoice's currency off an
    unpaid invoice nobody has started paying, and marks the invoice paid when nothing
    is left to pay. Idempotent in effect: an invoice already paid, or with no credit
    to take, is left alone. Returns the amount applied."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if (
        invoice.user_id is None
        or invoice.status != InvoiceStatus.UNPAID
        or invoice.total == 0
        or invoice.payments.exists()
    ):
        return 0
    if not CreditBalance.objects.filter(
        user_id=invoice.user_id, currency=invoice.currency, amount__gt=0
    ).exists():
        return 0
    balance = _locked_balance(user_id=invoice.user_id, currency=invoice.currency)
    used = min(balance.amount, invoice.total)
    if used == 0:
        return 0
    _post(
        balance=balance,
        amount=-used,
        kind=CreditKind.APPLIED,
        note=f"Applied to invoice {invoice.number}",
        invoice=invoice,
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        total=F("total") - used, credit_applied=F("credit_applied") + used
    )
    invoice.refresh_from_db()
    if invoice.total == 0:
        invoice_mark_paid(invoice=invoice)
    return used


def credit_apply_many(*, invoice_ids: Iterable[int]) -> int:
    """credit_apply for those of the invoices whose customers have credit in their
    currency (a renewal batch: two queries find them, the rest are left alone)."""
    rows = list(
        Invoice.objects.filter(pk__in=list(invoice_ids)).values_list("pk", "user_id", "currency")
    )
    with_credit = set(
        CreditBalance.objects.filter(
            amount__gt=0, user_id__in={user_id for _, user_id, _ in rows}
        ).values_list("user_id", "currency")
    )
    return sum(
        credit_apply(invoice_id=pk)
        for pk, user_id, currency in rows
        if (user_id, currency) in with_credit
    )
