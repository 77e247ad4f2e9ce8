"""Fixtures more than one test folder uses, registered for the whole suite by
tests/conftest.py (pytest_plugins): billing's plan and invoice, the fake panel and its
server, a real SMTP server, a Celery worker and a redis-server of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from billing.models import Invoice
from billing.services.orders import CartLine, order_place
from provisioning.models import ModuleName, Server
from tests.factories import PriceFactory, ProductFactory, TaxRateFactory
from tests.helpers import GENERIC_SECRET, free_port, make_server
from tests.servers import (
    WORKER_BROKER_URL,
    RedisServer,
    SmtpRecorder,
    SmtpServer,
    purge,
    use_broker,
)

# --- billing ---


@pytest.fixture
def plan(db):
    product = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=500)
    PriceFactory(product=product, currency="EUR", cycle="yearly", amount=5000, setup_fee=1000)
    PriceFactory(product=product, currency="USD", cycle="monthly", amount=600)
    return product


@pytest.fixture
def uk_vat(db):
    return TaxRateFactory(country="GB", rate="20.00", is_eu=False)


@pytest.fixture
def alice_invoice(alice, plan, uk_vat) -> Invoice:
    order = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    )
    return order.invoices.get()


@pytest.fixture
def hosted_plan(generic_server):
    product = ProductFactory(
        name="Cloud hosting",
        slug="cloud",
        group="cloud",
        server_group=generic_server.group,
        package="cloud-s",
    )
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=1000)
    return product


# --- provisioning ---


@pytest.fixture
def fake_panel():
    from tests.provisioning.fake_panel import FakePanel, serve

    panel = FakePanel(secret=GENERIC_SECRET)
    server = serve(panel)
    yield panel
    server.shutdown()
    server.server_close()


@pytest.fixture
def generic_server(db, fake_panel) -> Server:
    return make_server(
        ModuleName.GENERIC,
        secret=GENERIC_SECRET,
        hostname="127.0.0.1",
        port=fake_panel.port,
        use_tls=False,
        options={"path": "/onepanel"},
    )


# --- servers ---


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port; the default mailer points at it."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    try:
        yield SmtpServer(host="127.0.0.1", port=port, recorder=recorder)
    finally:
        controller.stop()


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A real Celery worker (in a thread of this process) on a real Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    undo = use_broker(app, WORKER_BROKER_URL)
    purge(app)
    options = app.conf.broker_transport_options
    # A stopping worker's channel reads the answer to its last BRPOP first, which Redis
    # gives when the BRPOP times out: after 1 s by default, 0.1 s with this.
    app.conf.broker_transport_options = options | {"polling_interval": 0.1}
    try:
        # No result backend to ping through: start_worker still waits until the
        # worker is consuming before it yields.
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=20
        ) as worker:
            yield worker
    finally:
        app.conf.broker_transport_options = options
        undo()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(own_redis) -> Iterator[RedisServer]:
    from config.celery import app

    undo = use_broker(app, own_redis.url)
    try:
        yield own_redis
    finally:
        undo()
