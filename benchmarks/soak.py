"""make soak: load and faults, bounded in time, on loopback only.

`python -m benchmarks.soak` starts everything it needs on free loopback ports, of its
own, and removes it afterwards: a throwaway PostgreSQL cluster (initdb in a temporary
directory; never the shared server), a redis-server, localstripe, an SMTP sink
(aiosmtpd, counting every Message-ID), gunicorn serving OnePanel and a Celery worker
(restarted if it exits, as compose's `restart: unless-stopped` does; the restarts are
counted and printed).
Then `customers` customers (default 100) browse and pay invoices with saved cards for
`duration` seconds (default 60) while, in turn:

1. Redis is stopped for 20 s and started again (empty): pages must keep working
   (sessions and cache fail soft) and the messages queued meanwhile go out afterwards;
2. PostgreSQL is restarted: requests get a clean 503 page meanwhile and the app
   recovers without a restart;
3. a worker process is killed with SIGKILL in the middle of a batch of emails.

Afterwards it waits for the outbox to drain (running the re-queue job as beat would)
and checks: no 500 at all, no 5xx outside the PostgreSQL restart, no email lost, none
sent twice. It prints its figures and exits non-zero on any failure.

The servers themselves (the cluster, redis-server, the SMTP sink, the worker's
supervisor) are in benchmarks/soak_servers.py.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.soak_servers import (
    LOCALSTRIPE,
    Postgres,
    Redis,
    Sink,
    Supervised,
    free_port,
    log,
    stop_process,
    wait_for_port,
    worker_children,
)

VISA = "4242424242424242"
REDIS_DOWN_AT, REDIS_DOWN_FOR = 12.0, 20.0
POSTGRES_RESTART_AT = 38.0
WORKER_KILL_AT = 48.0
KILL_BATCH = 200
THINK_SECONDS = (1.0, 3.0)
RAMP_UP_SECONDS = 5.0


@dataclass
class Result:
    at: float
    path: str
    status: int
    seconds: float


@dataclass
class Customer:
    cookie: str
    card_id: int
    invoice_ids: list[int]


class Load:
    """`customers` threads browsing and paying until stopped."""

    def __init__(self, port: int, customers: list[Customer], started: float) -> None:
        self.port = port
        self.customers = customers
        self.started = started
        self.results: list[Result] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.paid = 0

    def _request(
        self, method: str, path: str, cookies: dict[str, str], body: str = ""
    ) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        began = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            status = response.status
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    cookies[name] = rest.split(";", 1)[0]
        except OSError:
            status, text = 0, ""
        finally:
            connection.close()
        with self.lock:
            self.results.append(
                Result(
                    began - self.started,
                    re.sub(r"\d+", "<n>", path),
                    status,
                    time.monotonic() - began,
                )
            )
        return status, text

    def customer(self, customer: Customer) -> None:
        name, _, value = customer.cookie.partition("=")
        cookies = {name: value}
        unpaid = list(customer.invoice_ids)
        # Customers arrive over the first seconds, not all in the same millisecond.
        if self.stop.wait(random.uniform(0, RAMP_UP_SECONDS)):  # noqa: S311
            return
        while not self.stop.is_set():
            for path in (
                "/dashboard/",
                "/billing/invoices/",
                "/billing/services/",
                "/account/profile/",
            ):
                self._request("GET", path, cookies)
                # A customer reads a page for a moment before the next click.
                if self.stop.wait(random.uniform(*THINK_SECONDS)):  # noqa: S311
                    return
            if unpaid:
                invoice = f"/billing/invoices/{unpaid[0]}/"
                status, page = self._request("GET", invoice, cookies)
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
                if status == 200 and token:
                    status, _ = self._request(
                        "POST",
                        f"{invoice}pay/",
                        cookies,
                        f"csrfmiddlewaretoken={token.group(1)}&payment_method={customer.card_id}",
                    )
                    if status == 302:
                        unpaid.pop(0)
                        with self.lock:
                            self.paid += 1

    @contextmanager
    def running(self) -> Iterator[None]:
        threads = [
            threading.Thread(target=self.customer, args=(c,), daemon=True) for c in self.customers
        ]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(timeout=60)


def confirm_card_setup(stripe_url: str, client_secret: str) -> str:
    """What Stripe.js confirmCardSetup sends for a test card; returns the SetupIntent id."""
    import json
    import urllib.request

    setup_intent_id = client_secret.split("_secret_")[0]
    body = json.dumps(
        {
            "key": "pk_test_localstripe",
            "use_stripe_sdk": True,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": VISA, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback localstripe
        f"{stripe_url}/v1/setup_intents/{setup_intent_id}/confirm", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if json.loads(response.read())["status"] != "succeeded":
            raise RuntimeError("localstripe did not confirm the card setup.")
    return setup_intent_id


def prepare(customers: int, stripe_url: str) -> list[Customer]:
    """Customers with a saved card (through localstripe) and unpaid invoices."""
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from billing.models import Product, ProductKind
    from billing.services.cards import card_setup_begin, card_setup_complete
    from billing.services.orders import CartLine, order_place

    call_command("migrate", verbosity=0)
    call_command("seed_catalogue", verbosity=0)
    # A plan sold on its own (an add-on needs its plan in the same order) with no domain.
    plan = Product.objects.filter(
        kind=ProductKind.PLAN,
        requires_domain=False,
        prices__currency="EUR",
        prices__amount__gt=0,
    ).first()
    if plan is None:
        raise RuntimeError("seed_catalogue made no plan with a EUR price.")
    cycle = plan.prices.filter(currency="EUR").values_list("cycle", flat=True)[0]
    made = []
    for n in range(customers):
        user = User.objects.create_user(
            email=f"customer{n}@soak.example.invalid",
            password=None,
            full_name=f"Soak {n}",
            phone="+442079460958",
            address_line1="1 Soak Street",
            city="London",
            postcode="NW1 6XE",
            country="GB",
        )
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
        intent = card_setup_begin(user=user)
        card = card_setup_complete(
            user=user,
            setup_intent_id=confirm_card_setup(stripe_url, intent.client_secret),
        )
        invoices = [
            order_place(
                user=user, lines=[CartLine(product_id=plan.pk, cycle=cycle)], currency="EUR"
            )
            .invoices.get()
            .pk
            for _ in range(3)
        ]
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        made.append(Customer(f"{settings.SESSION_COOKIE_NAME}={cookie}", card.pk, invoices))
    return made


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=240.0, help="seconds to wait for email")
    options = parser.parse_args(argv)
    failures: list[str] = []
    with ExitStack() as stack:
        directory = Path(tempfile.mkdtemp(prefix="onepanel-soak-"))
        # The logs stay for a failed run (the path is printed).
        stack.callback(lambda: failures or shutil.rmtree(directory, True))
        postgres = Postgres(directory)
        postgres.start()
        stack.callback(postgres.stop)
        redis = Redis(directory)
        redis.start()
        stack.callback(redis.stop)
        stripe_port = free_port()
        stripe = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", LOCALSTRIPE, str(stripe_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(stop_process, stripe)
        wait_for_port(stripe_port)
        from aiosmtpd.controller import Controller

        sink = Sink()
        smtp_port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        stack.callback(controller.stop)
        import logging

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        stripe_url = f"http://127.0.0.1:{stripe_port}"
        env = {
            "DJANGO_SETTINGS_MODULE": "config.settings.bench",
            "DATABASE_URL": postgres.url,
            "REDIS_URL": redis.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=5",
            "STRIPE_SECRET_KEY": "sk_test_localstripe",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe",
            "STRIPE_API_BASE": stripe_url,
            "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
            "LOG_LEVEL": "ERROR",
        }
        os.environ.update(env)
        import django

        django.setup()
        from django.db import connection

        from benchmarks.pages import gunicorn
        from notifications.delivery import outbox_requeue_stuck
        from notifications.models import OutboxMessage, Status
        from notifications.services import notify

        log(f"preparing {options.customers} customers with cards and invoices...")
        customers = prepare(options.customers, stripe_url)
        web_port = stack.enter_context(
            gunicorn("config.wsgi", workers=3, threads=4, log=directory / "web.log")
        )
        worker = Supervised(
            [
                shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery",
                "-A",
                "config",
                "worker",
                "--concurrency=2",
                "--loglevel=ERROR",
                "--without-gossip",
                "--without-mingle",
            ],
            log=directory / "worker.log",
        )
        stack.callback(worker.stop)
        deadline = time.monotonic() + 60
        while len(worker_children(worker.process)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)  # its processes connect to the broker
        connection.close()

        started = time.monotonic()
        load = Load(web_port, customers, started)
        windows: dict[str, tuple[float, float]] = {}
        killed = 0
        burst_ids: list[int] = []
        log(f"{options.customers} customers browse and pay for {options.duration:.0f} s...")
        with load.running():
            time.sleep(REDIS_DOWN_AT)
            log("stopping Redis for 20 s")
            down = time.monotonic() - started
            redis.stop()
            time.sleep(REDIS_DOWN_FOR)
            redis.start()
            windows["redis down"] = (down, time.monotonic() - started)
            log("Redis is back")
            time.sleep(max(0.0, POSTGRES_RESTART_AT - (time.monotonic() - started)))
            log("restarting PostgreSQL")
            restart = time.monotonic() - started
            postgres.pg_ctl("restart")
            windows["postgres restart"] = (restart, time.monotonic() - started)
            log("PostgreSQL is back")
            connection.close()
            time.sleep(max(0.0, WORKER_KILL_AT - (time.monotonic() - started)))
            from accounts.models import User

            users = list(User.objects.filter(email__endswith="@soak.example.invalid")[:KILL_BATCH])
            for user in users:
                burst_ids += [row.pk for row in notify(user=user, kind="welcome", context={})]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if OutboxMessage.objects.filter(pk__in=burst_ids, status=Status.SENT).exists():
                    break
                time.sleep(0.05)
            children = worker_children(worker.process)
            if children:
                os.kill(children[0], signal.SIGKILL)
                killed += 1
                log(f"SIGKILLed worker process {children[0]} mid-batch")
            time.sleep(max(0.0, options.duration - (time.monotonic() - started)))
        elapsed = time.monotonic() - started
        log("load stopped; waiting for the outbox to drain")
        drain_started = time.monotonic()
        while time.monotonic() - drain_started < options.drain:
            outbox_requeue_stuck()  # what beat runs every minute
            if not OutboxMessage.objects.filter(status=Status.QUEUED).exists():
                break
            time.sleep(5)
        drain = time.monotonic() - drain_started

        from billing.models import Invoice, InvoiceStatus

        paid = Invoice.objects.filter(
            user__email__endswith="@soak.example.invalid", status=InvoiceStatus.PAID
        ).count()
        rows = list(OutboxMessage.objects.values_list("pk", "status", "provider_id", "channel"))
        in_flight_rows = [pk for pk, status, _, _ in rows if status == Status.SENDING]
        in_flight_received = [
            pk for pk in in_flight_rows if any(f".outbox-{pk}@" in mid for mid in sink.ids)
        ]
        statuses = Counter(status for _, status, _, _ in rows)
        delivered_twice = [mid for mid, count in sink.ids.items() if count > 1]
        sent_ids = {provider for _, status, provider, _ in rows if status == Status.SENT}
        missing = [mid for mid in sent_ids if sink.ids[mid] == 0]
        results = load.results
        seconds = [r.seconds * 1000 for r in results]
        by_status = Counter(r.status for r in results)
        pg_from, pg_to = windows["postgres restart"]
        # A request counts where it was being served: from its start to its answer.
        outside = [
            r
            for r in results
            if r.status >= 500 and not (r.at <= pg_to + 5 and r.at + r.seconds >= pg_from - 1)
        ]
        redis_from, redis_to = windows["redis down"]
        during_redis = [r for r in results if r.at >= redis_from and r.at + r.seconds <= redis_to]
        after_pg = [r for r in results if r.at > pg_to + 5]

        print(f"soak: {options.customers} customers for {elapsed:.0f} s on loopback")
        print(
            f"  requests: {len(results):,} ({len(results) / elapsed:,.0f}/s), "
            f"p50 {statistics.median(seconds):.0f} ms, p95 {percentile(seconds, 95):.0f} ms, "
            f"p99 {percentile(seconds, 99):.0f} ms; by status {dict(sorted(by_status.items()))}"
        )
        print(f"  invoices paid through localstripe: {paid} ({load.paid} pay forms answered)")
        print(
            f"  Redis down {redis_from:.0f}-{redis_to:.0f} s: {len(during_redis)} requests, "
            f"{sum(r.status == 200 for r in during_redis)} answered 200, "
            f"{sum(r.status >= 500 for r in during_redis)} 5xx"
        )
        print(
            f"  PostgreSQL restart {pg_from:.0f}-{pg_to:.0f} s: "
            f"{sum(r.status == 503 for r in results)} clean 503 pages, "
            f"{sum(r.status == 500 for r in results)} 500s; after it "
            f"{sum(r.status == 200 for r in after_pg)} of {len(after_pg)} requests 200"
        )
        print(f"  worker exited on its own and was restarted: {worker.restarts} times")
        print(
            f"  worker processes SIGKILLed mid-batch: {killed}; rows left sending (the one "
            f"being handed to SMTP, never resent): {len(in_flight_rows)}, of which received "
            f"by the sink: {len(in_flight_received)}"
        )
        print(
            f"  outbox: {len(rows)} messages, {dict(statuses)}; drained in {drain:.0f} s; "
            f"SMTP sink got {sum(sink.ids.values())} ({len(delivered_twice)} twice, "
            f"{len(missing)} marked sent but never received)"
        )

        if by_status.get(500):
            failures.append(f"{by_status[500]} requests answered 500")
        if outside:
            failures.append(f"{len(outside)} 5xx outside the PostgreSQL restart")
        if by_status.get(0):
            unanswered = [
                f"{r.path} at {r.at:.0f} s after {r.seconds:.0f} s"
                for r in results
                if r.status == 0
            ]
            failures.append(f"{by_status[0]} requests got no answer: {unanswered[:5]}")
        if not during_redis or any(r.status >= 500 for r in during_redis):
            failures.append("pages did not keep working while Redis was down")
        if not after_pg or any(r.status != 200 and r.status != 302 for r in after_pg):
            failures.append("requests after the PostgreSQL restart did not all succeed")
        if delivered_twice:
            failures.append(f"{len(delivered_twice)} emails delivered twice")
        if missing:
            failures.append(f"{len(missing)} emails marked sent were never received")
        if statuses.get(Status.QUEUED):
            failures.append(f"{statuses[Status.QUEUED]} emails still queued: lost")
        if statuses.get(Status.FAILED):
            failures.append(f"{statuses[Status.FAILED]} emails failed")
        # A row left "sending" is never resent: it was being handed to SMTP when its
        # worker died (or PostgreSQL went away before the "sent" mark). Received by the
        # sink, it was delivered once; not received, it is lost, which at most the one
        # row a SIGKILLed process had in hand may be.
        not_received = len(in_flight_rows) - len(in_flight_received)
        if not_received > killed:
            failures.append(f"{not_received} emails left sending were never received")
        if paid == 0:
            failures.append("no invoice was paid")
        if not killed:
            failures.append("no worker process could be killed mid-batch")
        if failures:
            print(f"  logs: {directory}")
    for failure in failures:
        print(f"FAILED: {failure}")
    print("soak: " + ("failed" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
