"""Columns shared by the billing admin: amounts with their currency, fraud scores."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Model, OuterRef, Subquery
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from verification.models import RiskAssessment, RiskSubject

from ..money import format_money


def risk_score(subject: RiskSubject) -> Subquery:
    """A row's fraud score (verification's, by our id), to annotate a list in one query."""
    scores = RiskAssessment.objects.filter(subject=subject, subject_id=OuterRef("pk"))
    return Subquery(scores.values("score")[:1])


def risk_score_detail(subject: RiskSubject, pk: int | None) -> SafeString | str:
    row = (
        None
        if pk is None
        else RiskAssessment.objects.filter(subject=subject, subject_id=pk).first()
    )
    if row is None:
        return "not assessed"
    reasons = format_html_join("", "<li>{}</li>", ((reason,) for reason in row.reasons))
    return format_html("{} <ul>{}</ul>", row.score, reasons or format_html("<li>no signal</li>"))


def money_column(
    field: str, description: str, *, currency: str = "currency"
) -> Callable[[Model], str]:
    """A changelist or read-only column showing `field` with its currency ("€63.47").

    `currency` is the attribute path to the ISO code ("invoice__currency" for a line).
    Every amount staff read goes through billing.money.format_money, the formatter the
    client area and the invoices use.
    """

    def show(obj: Model) -> str:
        amount = getattr(obj, field)
        if amount is None:  # an inline's blank template row
            return "-"
        code: object = obj
        for part in currency.split("__"):
            code = getattr(code, part)
        return format_money(amount, str(code))

    show.__name__ = f"money_{field}"
    return admin.display(description=description, ordering=field)(show)


PRICE = money_column("amount", "Price")
SERVICE_PRICE = money_column("amount", "Price per cycle")
SUBTOTAL = money_column("subtotal", "Subtotal")
TAX = money_column("tax_amount", "Tax")
TOTAL = money_column("total", "Total")
AMOUNT = money_column("amount", "Amount")
LINE_UNIT = money_column("unit_amount", "Unit price", currency="invoice__currency")
LINE_AMOUNT = money_column("amount", "Amount", currency="invoice__currency")
CREDIT_AMOUNT = money_column("amount", "Amount")
CREDIT_BALANCE = money_column("balance_after", "Balance after")
