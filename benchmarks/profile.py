"""Where a page's time goes, without trusting the wall clock of a shared machine.

`python -m benchmarks.profile [--requests N] [--cprofile] [--only LABEL]` calls
OnePanel's WSGI application in-process (config.wsgi, as gunicorn does, no test client)
with the bench customer's session cookie, and prints per page: the queries of one
request, and the CPU time (process time, not wall clock) per request. `--cprofile`
prints each page's 25 costliest functions (cumulative). `--without MIDDLEWARE` (a dotted
path, repeatable) serves the pages with that middleware left out, so the difference
is its share.

`--instructions` gives a figure that does not move with the load of a shared machine:
the instructions one request executes (valgrind's `Ir`), counted by callgrind around
the requests only (start-up and warm-up run uninstrumented). It needs valgrind and a C
compiler (`apt-get install -y valgrind gcc`): a five-line library made at run time
issues callgrind's client requests, which Python cannot issue itself. Expect about a
second per request.
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import io
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def environ(path: str, cookie: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "wrk",
        "HTTP_COOKIE": cookie,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def call(application: Callable[..., Iterable[bytes]], path: str, cookie: str) -> str:
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], *_: Any) -> None:
        status.append(line)

    body = application(environ(path, cookie), start_response)
    for _chunk in body:
        pass
    close = getattr(body, "close", None)
    if close is not None:
        close()
    return status[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--pyinstrument", action="store_true", help="needs pyinstrument")
    parser.add_argument("--instructions", action="store_true", help="count under callgrind")
    parser.add_argument("--only", action="append", help="a word of the page's label")
    parser.add_argument("--bare", action="store_true", help="bare Django (benchmarks.bare)")
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="MIDDLEWARE",
        help="leave out a middleware (its dotted path): its share is the difference",
    )
    options = parser.parse_args(argv)
    if options.instructions and "PROFILE_CALLGRIND_LIBRARY" not in os.environ:
        return under_callgrind("benchmarks.profile", argv, options.requests)
    marks = ctypes.CDLL(os.environ["PROFILE_CALLGRIND_LIBRARY"]) if options.instructions else None

    if options.bare:
        from .bare import application as bare

        _measure(options, marks, bare, "bare Django", "/bench/ok", "")
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    from django.conf import settings

    from config.wsgi import application

    if options.without:
        from django.core.handlers.wsgi import WSGIHandler

        unknown = set(options.without) - set(settings.MIDDLEWARE)
        if unknown:
            parser.error(f"not in MIDDLEWARE: {', '.join(sorted(unknown))}")
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m not in options.without]
        application = WSGIHandler()
    from .pages import bench_customer, pages, signed_in_client

    user = bench_customer()
    client = signed_in_client(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    for page in pages(user):
        if page.bare or (options.only and not any(w in page.label for w in options.only)):
            continue
        page_cookie = cookie if page.signed_in else ""
        _measure(options, marks, application, page.label, page.path, page_cookie)
    return 0


def _measure(
    options: argparse.Namespace,
    marks: ctypes.CDLL | None,
    application: Callable[..., Iterable[bytes]],
    label: str,
    path: str,
    cookie: str,
) -> None:
    from django.db import connection

    status = call(application, path, cookie)  # warm: templates, caches
    if not status.startswith("200"):
        raise RuntimeError(f"{path} answered {status}.")
    queries: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        call(application, path, cookie)
    profiler = cProfile.Profile() if options.cprofile else None
    sampler = _sampler() if options.pyinstrument else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    if sampler:
        sampler.start()
    if marks:
        marks.cg_start()
        marks.cg_zero()
        marks.cg_toggle()
    for _ in range(options.requests):
        call(application, path, cookie)
    if marks:
        marks.cg_toggle()
        marks.cg_dump(label.encode())
        marks.cg_stop()
    if profiler:
        profiler.disable()
    if sampler:
        sampler.stop()
    cpu = (time.process_time() - started) / max(options.requests, 1)
    print(f"{label}: {len(queries)} queries, {cpu * 1000:.2f} ms CPU/request", flush=True)
    if profiler:
        order = os.environ.get("PROFILE_SORT", "cumulative")
        pstats.Stats(profiler).sort_stats(order).print_stats(
            int(os.environ.get("PROFILE_LINES", "25"))
        )
    if sampler:
        print(sampler.output_text(show_all=False, short_mode=False, time="percent_of_total"))


CALLGRIND_MARKS = """
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void cg_zero(void) { CALLGRIND_ZERO_STATS; }
void cg_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void cg_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""


def under_callgrind(module: str, argv: list[str], requests: int) -> int:
    """Runs `python -m module argv` again under callgrind and prints the instructions
    per request (or per message: whatever the module counts `requests` of)."""
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as folder:
        source, library = Path(folder, "marks.c"), Path(folder, "marks.so")
        source.write_text(CALLGRIND_MARKS)
        subprocess.run(  # noqa: S603
            ["gcc", "-O1", "-shared", "-fPIC", "-o", str(library), str(source)],  # noqa: S607
            check=True,
        )
        output = Path(folder, "callgrind.out")
        subprocess.run(  # noqa: S603
            [  # noqa: S607
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                "--collect-atstart=no",
                f"--callgrind-out-file={output}",
                sys.executable,
                "-m",
                module,
                *argv,
            ],
            env=os.environ | {"PROFILE_CALLGRIND_LIBRARY": str(library)},
            check=True,
        )
        for dump in sorted(Path(folder).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:])):
            text = dump.read_text(errors="replace")
            label = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if label and total:
                per_request = int(total.group(1)) / max(requests, 1)
                print(f"{label.group(1)}: {per_request / 1e6:.2f} M instructions/request")
    return 0


def _sampler() -> Any:
    from pyinstrument import Profiler  # type: ignore[import-not-found]  # a developer tool, not a dependency

    return Profiler(interval=0.0002)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
