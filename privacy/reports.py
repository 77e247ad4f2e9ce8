"""Aggregated demographics for partners: customers by month, country and plan, with no
group smaller than PRIVACY_REPORT_MIN_GROUP (k) shown, directly or by subtraction.

The report publishes three levels: each (month, country, plan) cell, each (month,
country) subtotal and each month's total. Primary suppression hides every figure below
k. Complementary suppression then makes sure no hidden figure can be worked out from
the ones shown: within every published total, the hidden parts number either none or
at least two, and together hold at least k customers (else the next smallest part is
hidden too; when no part is left to hide, the total itself is hidden, which moves the
problem one level up); a hidden total never has all its parts shown, or adding them up
would give it away. This repeats until nothing changes.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from billing.selectors import plan_customers_by_month

ALL = "(all)"
Key = tuple[str, str, str]  # month, country, plan; ALL in the coarser levels


@dataclass(frozen=True)
class Row:
    month: str
    country: str
    plan: str
    customers: int | None  # None: suppressed


def suppress(cells: dict[tuple[str, str, str], int], k: int) -> dict[Key, int | None]:
    """Every figure of the three levels, the unsafe ones replaced by None."""
    values: dict[Key, int] = dict(cells)
    children: dict[Key, list[Key]] = defaultdict(list)
    for month, country, plan in cells:
        children[(month, country, ALL)].append((month, country, plan))
    for month, country, _ in list(children):
        if (month, country, ALL) not in children[(month, ALL, ALL)]:
            children[(month, ALL, ALL)].append((month, country, ALL))
    for parent in sorted(children, key=lambda key: key[1] == ALL):  # subtotals first
        values[parent] = sum(values[child] for child in children[parent])
    hidden = {key for key, value in values.items() if 0 < value < k}
    changed = True
    while changed:
        changed = False
        for parent, parts in children.items():
            if parent in hidden:
                # A hidden total whose parts all show is recovered by adding them up.
                if not any(part in hidden for part in parts):
                    hidden.add(min(parts, key=lambda p: values[p]))
                    changed = True
                continue
            secret = [part for part in parts if part in hidden]
            if not secret or (len(secret) >= 2 and sum(values[p] for p in secret) >= k):
                continue
            shown = sorted((p for p in parts if p not in hidden), key=lambda p: values[p])
            hidden.add(shown[0] if shown else parent)
            changed = True
    return {key: (None if key in hidden else value) for key, value in values.items()}


def demographics() -> list[Row]:
    """The report as it may leave the building, month by month."""
    cells = {(r.month, r.country, r.plan): r.customers for r in plan_customers_by_month()}
    figures = suppress(cells, settings.PRIVACY_REPORT_MIN_GROUP)
    order = sorted(figures, key=lambda key: (key[0], key[1] == ALL, key[1], key[2] == ALL, key[2]))
    return [
        Row(month, country, plan, figures[(month, country, plan)]) for month, country, plan in order
    ]


def demographics_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "country", "plan", "customers"])
    for row in rows:
        shown = (
            row.customers
            if row.customers is not None
            else f"<{settings.PRIVACY_REPORT_MIN_GROUP} or hidden"
        )
        writer.writerow([row.month, row.country, row.plan, shown])
    return out.getvalue()
