"""Money helpers: integer minor units in, text out. Every currency we sell has two decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def format_money(amount: int, currency: str) -> str:
    """12345, "EUR" -> "€123.45"; a negative amount gets a leading minus."""
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(int(amount)), 100)
    symbol = SYMBOLS.get(currency)
    text = f"{units:,}.{cents:02d}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def percent_of(amount: int, rate: Decimal) -> int:
    """Tax on `amount` minor units at `rate` percent, rounded half up to a whole minor unit."""
    return int((Decimal(amount) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
