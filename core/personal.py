"""Plain data an app's personal_data.py returns to privacy/ (GDPR export and erasure).

These live on the ground floor so every app can build them without importing privacy;
privacy/discovery.py holds the interface (a Protocol) the modules implement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any


@dataclass(frozen=True)
class ErasureBlocker:
    """Why an erasure cannot start yet, and what the customer does to clear it."""

    reason: str
    how_to_clear: str
    url: str = ""


@dataclass(frozen=True)
class ExportFile:
    """A file that goes into the export zip as it is (an invoice PDF, an attachment).

    `open` is called only when the zip is written, so files are read one at a time.
    """

    path: str
    open: Callable[[], IO[bytes]]


def category_value(value: object) -> Any:  # JSON-ready data of any shape
    """A category of an export: modules may give a function instead of the value, so
    the export builds one category at a time and drops it once written."""
    return value() if callable(value) else value
