"""make bench: `python -m benchmarks` prints one table and writes it to docs/benchmarks.md.

Runs on the PostgreSQL and Redis named by DATABASE_URL and REDIS_URL (the Makefile
gives it a database of its own), with config.settings.bench.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

START = "<!-- make bench: table -->"
END = "<!-- make bench: end of table -->"


def machine() -> str:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {pages / 2**30:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="runs of the page set")
    parser.add_argument("--services", type=int, default=100_000, help="due services to renew")
    parser.add_argument("--messages", type=int, default=2_000, help="emails through the outbox")
    parser.add_argument("--invoices", type=int, default=1_000, help="invoices in the export")
    parser.add_argument("--tickets", type=int, default=200, help="tickets in the export")
    parser.add_argument(
        "--only", choices=["pages", "renewals", "outbox", "export"], action="append"
    )
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).resolve().parent.parent / "docs/benchmarks.md"
    )
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.db import connection

    from . import export, outbox, pages, renewals
    from .table import Row, markdown

    # A section is a function of the options returning rows; add new figures here.
    sections: dict[str, Callable[[argparse.Namespace], list[Row]]] = {
        "pages": lambda o: pages.rows(
            duration=o.duration, connections=o.connections, repeat=o.repeat
        ),
        "renewals": lambda o: renewals.rows(count=o.services),
        "outbox": lambda o: outbox.rows(messages=o.messages),
        "export": lambda o: export.rows(invoices=o.invoices, tickets=o.tickets),
    }
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    rows: list[Row] = []
    took: list[str] = []
    for name, section in sections.items():
        if options.only and name not in options.only:
            continue
        print(f"running {name}...", file=sys.stderr, flush=True)
        section_started = time.monotonic()
        rows += section(options)
        seconds = time.monotonic() - section_started
        took.append(f"{name} {seconds:.0f} s")
        print(f"{name} took {seconds:.0f} s", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    version: int = getattr(connection, "pg_version", 0)
    heading = (
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {platform.node()}: {machine()}; "
        f"PostgreSQL {version // 10000}.{version % 10000} and Redis on the same machine; "
        f"gunicorn {pages.WORKERS} sync workers, wrk {options.connections} connections, "
        f"{options.duration} s per page, {options.repeat} run(s) (the best shown). "
        f"Load average (1/5/15 min) {load_before[0]:.2f}/{load_before[1]:.2f}/"
        f"{load_before[2]:.2f} before, {load_after[0]:.2f}/{load_after[1]:.2f}/"
        f"{load_after[2]:.2f} after. The run took {', '.join(took)}."
    )
    table = f"{heading}\n\n{markdown(rows)}"
    print(table)
    if not options.only:
        write_table(options.output, table)
        print(f"written to {options.output}", file=sys.stderr)
    return 0


def write_table(document: Path, table: str) -> None:
    """Puts the table into the document between its markers, replacing the last one."""
    text = document.read_text() if document.exists() else ""
    block = f"{START}\n{table}\n{END}"
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    document.write_text(text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
