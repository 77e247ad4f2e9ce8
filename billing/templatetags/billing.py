from __future__ import annotations

from django import template

from billing.domains import domain_unicode as to_unicode
from billing.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """{{ invoice.total|money:invoice.currency }} -> "€12.00"."""
    return format_money(amount or 0, currency)


@register.filter
def domain_unicode(ascii_name: str) -> str:
    """{{ service.domain|domain_unicode }} -> "bücher.example"."""
    return to_unicode(ascii_name)
