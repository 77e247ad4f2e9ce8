"""A page of a list in one query: Django's Paginator asks COUNT(*) and then the rows;
here the rows carry the count of the whole list (a window aggregate, COUNT(*) OVER ()),
so a list page costs one query instead of two (each is 0.5-1 M instructions of ORM
work before the database does anything)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window

TOTAL = "rows_in_list"  # the annotation that carries the count


def page_of(queryset: QuerySet[Any, Any], number: object, per_page: int) -> Page[Any]:
    """What `Paginator(queryset, per_page).get_page(number)` gives, in one query: a
    number that is not a whole number shows the first page, one out of range the last
    (that case alone asks the count first, as Paginator would). The rows of a
    `.values()` queryset stay dicts (with one more key, TOTAL), model rows get TOTAL as
    an attribute. A queryset made by counted() once per process saves resolving the
    window on every request (about 1 M instructions on the invoice list)."""
    try:
        wanted = int(str(number))
    except ValueError:
        wanted = 1
    rows: list[Any] = []
    if wanted >= 1:
        start = (wanted - 1) * per_page
        if TOTAL not in queryset.query.annotations:
            queryset = counted(queryset)
        rows = list(queryset[start : start + per_page])
    paginator = Paginator(queryset, per_page)
    if rows:
        first = rows[0]
        paginator.count = first[TOTAL] if isinstance(first, dict) else getattr(first, TOTAL)
        return Page(rows, wanted, paginator)
    if wanted == 1:
        paginator.count = 0
        return Page(rows, 1, paginator)
    # Past the last page (or below the first): Paginator.get_page shows the last one.
    last = paginator.num_pages
    start = (last - 1) * per_page
    return Page(list(queryset[start : start + per_page]), last, paginator)


def counted[Q: QuerySet[Any, Any]](queryset: Q) -> Q:
    """`queryset` whose rows carry the count of all of its rows, for page_of."""
    return queryset.annotate(**{TOTAL: Window(Count("pk"))})
