"""Dashboard panels contributed by the apps.

core/ is the lowest floor and may not import billing or support, so each app
that has something to say on the dashboard keeps a `dashboard.py` registering a
panel function, found at start-up the way admin finds `admin.py`.

    from core.dashboard import panel

    @panel(order=10)
    def invoices(request) -> Panel | None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


PanelFunction = Callable[[HttpRequest], Panel | None]
_registry: list[tuple[int, PanelFunction]] = []


def panel(*, order: int) -> Callable[[PanelFunction], PanelFunction]:
    def register(function: PanelFunction) -> PanelFunction:
        _registry.append((order, function))
        _registry.sort(key=lambda entry: entry[0])
        return function

    return register


def panels_for(request: HttpRequest) -> list[Panel]:
    """Every registered panel that has something for this customer, in order."""
    return [found for _, function in _registry if (found := function(request)) is not None]
