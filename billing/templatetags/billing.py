from __future__ import annotations

from django import template

from billing.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """{{ invoice.total|money:invoice.currency }} -> "€12.00"."""
    return format_money(amount or 0, currency)
