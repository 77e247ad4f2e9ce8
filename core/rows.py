"""What table rows written in Python share (billing's, support's and accounts' lists):
a row through `{% include %}` with `{% url %}` and the `date` filter cost about 0.6 M
instructions, fifty of them most of a list page (docs/benchmarks.md).

Each function gives the text its template tag or filter gives, for the client area's
settings (English, USE_I18N off)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# An id no row has, to find where the id goes in a reversed URL.
_MARK = "9182736450"


def link_for(viewname: str) -> Callable[[object], str]:
    """`{% url viewname pk %}` for any pk, reversed once: call it once per request (the
    reversed URL carries the request's script prefix, SCRIPT_NAME), then once per row."""
    head, _, tail = reverse(viewname, args=[_MARK]).rpartition(_MARK)
    return lambda pk: f"{head}{pk}{tail}"


def day_month_year(day: dt.date | None) -> str:
    """`{{ day|date:"j M Y" }}`: "7 Mar 2026"; "" for None. A datetime is shown in the
    current time zone, as the filter does."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def day_month_year_time(moment: dt.datetime) -> str:
    """`{{ moment|date:"j M Y, H:i" }}` in the current time zone: "7 Mar 2026, 09:05"."""
    local = timezone.localtime(moment)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
