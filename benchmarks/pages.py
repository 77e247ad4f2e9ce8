"""Pages under gunicorn, loaded with wrk: requests per second, latency percentiles,
queries per request and the ratio to a bare Django view served by the same gunicorn
in the same run.

gunicorn runs OnePanel (config.wsgi with config.settings.bench) and, beside it, bare
Django (benchmarks.bare): the same workers, the same flags. wrk keeps `connections`
connections open for `duration` seconds per page. A customer with 1,000 invoices
(bench data, kept in the bench database between runs) is signed in through a session
cookie made by Django's test client.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import User
from billing.models import (
    BillingCycle,
    Invoice,
    InvoiceLine,
    Order,
    Product,
    Service,
    ServiceStatus,
)

from .table import Row, ms

BENCH_DIR = Path(__file__).resolve().parent
BENCH_EMAIL = "customer@bench-pages.example.invalid"
BENCH_INVOICE_YEAR = 1999  # a year of its own, so bench numbers never meet real ones
WORKERS = 2


@dataclass(frozen=True)
class Load:
    requests: int
    duration_us: int
    status_errors: int
    connect_errors: int
    read_errors: int
    timeouts: int
    p50_us: int
    p95_us: int
    p99_us: int
    max_us: int

    @property
    def per_second(self) -> float:
        return self.requests / (self.duration_us / 1_000_000)

    @property
    def errors(self) -> int:
        return self.status_errors + self.connect_errors + self.read_errors + self.timeouts


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    signed_in: bool
    bare: bool = False
    client_area: bool = False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str, cookie: str = "") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


PRODUCTION_CONFIG = BENCH_DIR.parent / "config" / "gunicorn.py"


def gunicorn_command(
    app: str,
    port: int,
    workers: int = WORKERS,
    threads: int = 1,
    *,
    recycle: bool = True,
) -> list[str]:
    """gunicorn with production's configuration file (config/gunicorn.py: timeouts, the
    redacting access log, forwarded-address trust), overriding only what a run on
    loopback must: the address, the workers and threads, the error log's level, and
    with `recycle=False` worker recycling (production replaces a worker after ~2,000
    requests; under wrk that is every second or two, and each restart's imports would
    be measured instead of the requests, the bare yardstick's more than OnePanel's)."""
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    if not PRODUCTION_CONFIG.exists():
        raise RuntimeError(f"{PRODUCTION_CONFIG} is missing: the bench serves with it.")
    return [
        binary,
        f"--config={PRODUCTION_CONFIG}",
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync" if threads == 1 else f"--threads={threads}",
        "--log-level=warning",
        *([] if recycle else ["--max-requests=0"]),
    ]


@contextmanager
def gunicorn(
    app: str,
    *,
    workers: int = WORKERS,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    threads: int = 1,
    recycle: bool = True,
) -> Iterator[int]:
    """gunicorn serving `app` on a free port, yielded once a worker answers /bench/ok."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
        gunicorn_command(app, port, workers, threads, recycle=recycle),
        cwd=settings.BASE_DIR,
        env=os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.bench"} | (env or {}),
        stdout=subprocess.DEVNULL,
        stderr=log.open("w") if log else None,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/bench/ok") == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app} did not start on port {port}.")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk(port: int, path: str, *, cookie: str, duration: float, connections: int) -> Load:
    """wrk on one page for `duration` seconds. wrk counts its duration in whole seconds;
    a shorter run (the tests': they check the harness, not the figures) starts wrk for one
    second and ends it early with SIGINT, which wrk answers by stopping its threads and
    reporting what it measured, over the time it really ran, as at the end of a run."""
    whole_seconds = math.ceil(duration)
    command = [
        "wrk",
        f"--duration={whole_seconds}s",
        f"--connections={connections}",
        "--threads=2",
        "--timeout=5s",
        f"--script={BENCH_DIR / 'report.lua'}",
    ]
    if cookie:
        command += ["--header", f"Cookie: {cookie}"]
    process = subprocess.Popen(  # noqa: S603
        [*command, f"http://127.0.0.1:{port}{path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    early_stop = None if duration == whole_seconds else duration
    try:
        output, errors = process.communicate(timeout=early_stop)
    except subprocess.TimeoutExpired:
        # Before its threads are running wrk ignores SIGINT: it then runs its second.
        process.send_signal(signal.SIGINT)
        output, errors = process.communicate()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command, output, errors)
    line = next(line for line in output.splitlines() if line.startswith("WRK "))
    return Load(**json.loads(line[4:]))


def bench_customer(invoices: int = 1_000, services: int = 10) -> User:
    """The signed-in customer of the page benchmark: made once, kept between runs."""
    user = User.objects.filter(email=BENCH_EMAIL).first()
    if user is not None and Invoice.objects.filter(user=user).count() == invoices:
        return user
    if not Product.objects.exists():
        call_command("seed_catalogue", verbosity=0)
    product = Product.objects.filter(prices__currency="EUR").first()
    today = timezone.localdate()
    with transaction.atomic():
        if user is not None:
            InvoiceLine.objects.filter(invoice__user=user).delete()
            Invoice.objects.filter(user=user).delete()
            Service.objects.filter(user=user).delete()
            Order.objects.filter(user=user).delete()
            user.delete()
        user = User.objects.create_user(
            email=BENCH_EMAIL,
            password=None,
            full_name="Bench Customer",
            phone="+442079460958",
            address_line1="1 Bench Street",
            city="London",
            postcode="NW1 6XE",
            country="GB",
        )
        EmailAddress.objects.create(user=user, email=BENCH_EMAIL, primary=True, verified=True)
        order = Order.objects.create(user=user, currency="EUR")
        Service.objects.bulk_create(
            Service(
                user=user,
                order=order,
                product=product,
                cycle=BillingCycle.MONTHLY,
                currency="EUR",
                amount=999,
                status=ServiceStatus.ACTIVE,
                next_due_date=today + dt.timedelta(days=20),
            )
            for _ in range(services)
        )
        made = Invoice.objects.bulk_create(
            Invoice(
                user=user,
                order=order,
                year=BENCH_INVOICE_YEAR,
                sequence=i,
                number=f"BENCH-{i:06d}",
                currency="EUR",
                issued_on=today,
                due_date=today,
                subtotal=999,
                total=999,
                billing_name="Bench Customer",
            )
            for i in range(1, invoices + 1)
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(invoice=invoice, description="Bench plan", unit_amount=999, amount=999)
            for invoice in made
        )
    return user


def pages(user: User) -> list[Page]:
    latest = Invoice.objects.filter(user=user).order_by("-sequence")[0]
    listed = [
        Page("bare Django (no app, no middleware, one view)", "/bench/ok", False, bare=True),
        Page("the same view in OnePanel's middleware, anonymous", "/bench/ok", False),
        Page("the same view in OnePanel's middleware, signed in", "/bench/ok", True),
        Page("/ (home) anonymous", reverse("core:home"), False),
        Page("/plans/ anonymous", reverse("billing:plans"), False),
        Page("/dashboard/", reverse("core:dashboard"), True, client_area=True),
        Page(
            "/billing/services/ (10 services)", reverse("billing:services"), True, client_area=True
        ),
        Page(
            "/billing/invoices/ (1,000 invoices)",
            reverse("billing:invoices"),
            True,
            client_area=True,
        ),
        Page(
            "/billing/invoices/<id>/",
            reverse("billing:invoice_detail", args=[latest.pk]),
            True,
            client_area=True,
        ),
        Page("/account/profile/", reverse("accounts:profile"), True, client_area=True),
        Page("/accounts/sessions/", reverse("usersessions_list"), True, client_area=True),
    ]
    try:
        listed.append(
            Page("/support/ (tickets)", reverse("support:tickets"), True, client_area=True)
        )
    except NoReverseMatch:
        pass  # support/ has not shipped its pages yet
    return listed


def queries_per_request(client: Client, path: str) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code} to the test client.")
    return len(captured.captured_queries)


def _target(page: Page, ratio: float, load: Load) -> str:
    if page.bare:
        return ""
    if page.label.endswith("signed in"):
        return "met (>= 0.5)" if ratio >= 0.5 else f"missed: {ratio / 0.5:.0%} of 0.5"
    if not page.client_area:
        return ""
    misses = []
    if ratio < 0.2:
        misses.append(f"ratio {ratio / 0.2:.0%} of 0.2")
    if load.p99_us >= 50_000:
        misses.append(f"p99 {load.p99_us / 50_000:.1f}x 50 ms")
    return "met (>= 0.2, p99 < 50 ms)" if not misses else "missed: " + ", ".join(misses)


def signed_in_client(user: User) -> Client:
    """A test client signed in as the bench customer, whose earlier runs' sessions are
    ended first: each run signs in once more, and the sessions page would otherwise list
    one more row every run (its queries stay constant, its rendering would not)."""
    earlier = UserSession.objects.filter(user=user)
    Session.objects.filter(session_key__in=earlier.values("session_key")).delete()
    earlier.delete()
    client = Client()
    client.force_login(user)
    return client


def rows(*, duration: float, connections: int, repeat: int, workers: int = WORKERS) -> list[Row]:
    user = bench_customer()
    client = signed_in_client(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    listed = pages(user)
    queries = {
        page.path: queries_per_request(client if page.signed_in else Client(), page.path)
        for page in listed
        if not page.bare
    }
    runs: dict[str, list[tuple[Load, float]]] = {page.label: [] for page in listed}
    for _ in range(repeat):
        with gunicorn("benchmarks.bare:application", workers=workers, recycle=False) as port:
            _get(port, "/bench/ok")
            bare = wrk(port, "/bench/ok", cookie="", duration=duration, connections=connections)
        runs[listed[0].label].append((bare, 1.0))
        with gunicorn("config.wsgi", workers=workers, recycle=False) as port:
            for page in listed[1:]:
                page_cookie = cookie if page.signed_in else ""
                status = _get(port, page.path, page_cookie)
                if status != 200:
                    raise RuntimeError(f"{page.path} answered {status} under gunicorn.")
                load = wrk(
                    port, page.path, cookie=page_cookie, duration=duration, connections=connections
                )
                if load.errors:
                    raise RuntimeError(f"{page.path}: {load.errors} failed requests under wrk.")
                runs[page.label].append((load, load.per_second / bare.per_second))
    table = []
    for page in listed:
        load, ratio = max(runs[page.label], key=lambda run: run[1])
        spread = sorted(run[0].per_second for run in runs[page.label])
        note = f"{repeat} runs: {spread[0]:,.0f} to {spread[-1]:,.0f} req/s" if repeat > 1 else ""
        table.append(
            Row(
                what=page.label,
                result=f"{load.per_second:,.0f} req/s",
                p50=ms(load.p50_us),
                p95=ms(load.p95_us),
                p99=ms(load.p99_us),
                queries="" if page.bare else str(queries[page.path]),
                ratio=f"{ratio:.2f}",
                target=_target(page, ratio, load),
                note=note,
            )
        )
    return table
