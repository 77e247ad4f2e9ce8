"""What the apps show staff: overview panels on the admin start page and sections of a
customer's page in the admin.

core/ may not import billing, notifications or privacy, so each app that has
something to show keeps a `staff.py` registering functions here, found at start-up
the way admin finds `admin.py`:

    from core.staff import overview_panel, customer_section

    @overview_panel(order=10)
    def revenue(request) -> Panel: ...            # a fixed number of queries

    @customer_section(order=20, title="Invoices")
    def invoices(customer) -> QuerySet: ...       # paginated and rendered by core
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .dashboard import Panel

OverviewFunction = Callable[[HttpRequest], Panel]
_overview: list[tuple[int, OverviewFunction]] = []


def overview_panel(*, order: int) -> Callable[[OverviewFunction], OverviewFunction]:
    def register(function: OverviewFunction) -> OverviewFunction:
        _overview.append((order, function))
        _overview.sort(key=lambda entry: entry[0])
        return function

    return register


def overview_panels(request: HttpRequest) -> list[Panel]:
    return [function(request) for _, function in _overview]


@dataclass(frozen=True)
class Column:
    """One column of a customer-page list: a heading and how to read the cell."""

    heading: str
    value: Callable[[Any], object]
    link: bool = False


@dataclass(frozen=True)
class CustomerSection:
    """A list on the customer's admin page: rows from `rows(customer)` (a queryset with
    its joins, so a page of rows costs the same whatever its length), each row linked
    to its admin page when `admin_url` is given."""

    key: str
    title: str
    order: int
    rows: Callable[[Any], QuerySet[Any]]
    columns: Sequence[Column]
    admin_url: Callable[[Any], str] | None = None
    # An action under the list: (label, url) for this customer, e.g. adding a row.
    action: Callable[[Any], tuple[str, str]] | None = None
    per_page: int = 10
    extra: dict[str, Any] = field(default_factory=dict)


_sections: list[CustomerSection] = []


def customer_section(section: CustomerSection) -> CustomerSection:
    _sections.append(section)
    _sections.sort(key=lambda entry: entry.order)
    return section


def customer_sections() -> list[CustomerSection]:
    return list(_sections)


@dataclass(frozen=True)
class Cell:
    text: str
    url: str | None


@dataclass(frozen=True)
class SectionPage:
    """One section of a customer's page, paginated: a count and a page of rows (two
    queries, whatever the number of rows)."""

    section: CustomerSection
    page: Page[Any]
    rows: list[list[Cell]]
    page_param: str
    action: Cell | None = None


def customer_section_page(
    section: CustomerSection, customer: Model, number: str | None
) -> SectionPage:
    page = Paginator(section.rows(customer), section.per_page).get_page(number)
    rows = [
        [
            Cell(
                text=str(column.value(row)),
                url=section.admin_url(row) if column.link and section.admin_url else None,
            )
            for column in section.columns
        ]
        for row in page.object_list
    ]
    action = None
    if section.action is not None:
        label, url = section.action(customer)
        action = Cell(text=label, url=url)
    return SectionPage(
        section=section, page=page, rows=rows, page_param=f"{section.key}-page", action=action
    )
