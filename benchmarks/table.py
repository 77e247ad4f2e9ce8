"""The one table `make bench` prints and writes to docs/benchmarks.md.

A section of the benchmark is a function `(options) -> list[Row]`; benchmarks.run
lists them in SECTIONS. To add a figure (for example the GDPR export), write such a
function and add it there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    what: str
    result: str
    p50: str = ""
    p95: str = ""
    p99: str = ""
    queries: str = ""
    ratio: str = ""
    target: str = ""
    note: str = ""


HEADER = ("what", "result", "p50", "p95", "p99", "queries/request", "ratio", "target", "note")


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f} ms"


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        cells = (
            row.what,
            row.result,
            row.p50,
            row.p95,
            row.p99,
            row.queries,
            row.ratio,
            row.target,
            row.note,
        )
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
