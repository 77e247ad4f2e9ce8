"""Shared fixtures: the three personas of every permission test, and a browser.

alice owns things, bob is another customer (expects 404 on alice's things),
charlie is staff.
"""

from __future__ import annotations

import fcntl
import gc
import os
import socket
import tempfile
import uuid

import pytest

from tests.factories import UserFactory
from tests.helpers import clear_cache

# Fixtures more than one test folder uses (tests/fixtures.py).
pytest_plugins = ["tests.fixtures"]

TEMPLATE_READY = "ONEPANEL_TEST_TEMPLATE_READY"


def pytest_configure(config: pytest.Config) -> None:
    # Playwright's sync API runs an event loop in the test thread; the ORM calls
    # the test makes around it are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not hasattr(config, "workerinput"):
        # Where xdist workers (which inherit this environment) note that the template
        # database is ready (django_db_modify_db_settings); one per run.
        os.environ[TEMPLATE_READY] = os.path.join(
            tempfile.gettempdir(), f"onepanel-test-template-{uuid.uuid4().hex[:12]}"
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suite runs on real PostgreSQL and Redis: say clearly when either is missing."""
    import psycopg
    import redis
    from django.conf import settings

    db = settings.DATABASES["default"]
    problems = []
    try:
        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            dbname="postgres",
            password=db["PASSWORD"] or None,
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as error:
        problems.append(
            f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT'] or 5432} ({error})."
        )
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        problems.append(f"Redis is not reachable at {settings.REDIS_URL} ({error}).")
    if problems:
        pytest.exit(
            "\n".join(problems)
            + "\nStart them with 'docker compose up -d postgres redis', or point DATABASE_URL"
            " and REDIS_URL at running servers (see README.md, 'Running the tests').",
            returncode=3,
        )
    _start_template(session.config)


def _template_name() -> str:
    from django.conf import settings

    return f"test_{settings.DATABASES['default']['NAME']}_template"


def _create_template(ready: str) -> None:
    """Migrates the template database and writes the marker saying it is there."""
    from django.conf import settings
    from django.db import connections

    default = connections["default"]
    test_name = default.settings_dict["TEST"]["NAME"]
    original_name = default.settings_dict["NAME"]
    default.settings_dict["TEST"]["NAME"] = _template_name()
    try:
        default.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    finally:
        # CREATE DATABASE ... TEMPLATE needs no connection to the template.
        default.close()
        default.settings_dict["NAME"] = original_name
        default.settings_dict["TEST"]["NAME"] = test_name
        settings.DATABASES["default"]["NAME"] = original_name
    with open(ready, "w") as marker:
        marker.write(_template_name())


def _start_template(config: pytest.Config) -> None:
    """The xdist controller migrates the workers' template database in a thread, while the
    workers start and collect the suite (about 10 s each on the 2-core machine), instead of
    the first worker's first database test doing it while the other worker waits on the
    lock. The controller holds the lock until the template is ready; if it fails, the
    first worker migrates it (django_db_modify_db_settings)."""
    import threading

    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    ready = os.environ.get(TEMPLATE_READY)
    if hasattr(config, "workerinput") or not ready or not getattr(config.option, "numprocesses", 0):
        return
    if config.getoption("reuse_db") or connections["default"].vendor != "postgresql":
        return
    lock = open(ready + ".lock", "w")  # noqa: SIM115 (closed by the thread)
    fcntl.flock(lock, fcntl.LOCK_EX)

    def create() -> None:
        try:
            with config.stash[blocking_manager_key].unblock():
                _create_template(ready)
        finally:
            lock.close()  # releases the lock

    threading.Thread(target=create, name="template-database", daemon=True).start()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix, django_db_keepdb, django_db_blocker
):
    """Under pytest-xdist every worker creates its databases (default and the replica) as
    copies of one migrated template database (CREATE DATABASE ... TEMPLATE), so a run
    migrates once instead of twice per worker (3.5 s of CPU and about 100 transactions
    each); Django's migrate then finds nothing to apply. The controller migrates the
    template (_start_template) and drops it at the end (pytest_sessionfinish)."""
    from django.db import connections

    ready = os.environ.get(TEMPLATE_READY)
    default = connections["default"]
    if not os.environ.get("PYTEST_XDIST_WORKER") or not ready or django_db_keepdb:
        return
    if default.vendor != "postgresql":
        return
    with open(ready + ".lock", "w") as lock, django_db_blocker.unblock():
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker at a time; released on close
        if not os.path.exists(ready):
            _create_template(ready)
    for alias in connections:
        connections[alias].settings_dict["TEST"]["TEMPLATE"] = _template_name()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller drops the workers' template database (see above)."""
    ready = os.environ.get(TEMPLATE_READY, "")
    if hasattr(session.config, "workerinput") or not os.path.exists(ready):
        return
    os.remove(ready)
    if os.path.exists(ready + ".lock"):
        os.remove(ready + ".lock")
    import psycopg
    from django.conf import settings
    from psycopg import sql

    db = settings.DATABASES["default"]
    if db["ENGINE"] not in ("django.db.backends.postgresql", "tests.pgflush"):
        return
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        password=db["PASSWORD"] or None,
        autocommit=True,
    ) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(_template_name()))
        )


# Test modules whose tests share a server started once per module (module-scoped
# fixtures): under xdist all their tests go to one worker, so the server starts once per
# run and two workers never prepare it at once (the attack run's collectstatic writes the
# project's STATIC_ROOT). This is what `xdist_group` marks are for, but with pytest 9.2
# and xdist 3.8 `--dist loadgroup` ignores them (pytest-xdist#1386, fix not released):
# the scheduler below groups by path instead.
ONE_WORKER_MODULES = ("tests/attack/",)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """--dist loadgroup: xdist's own scheduler for it (tests one at a time, in collection
    order with --no-loadscope-reorder), with ONE_WORKER_MODULES each as one unit."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroups(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
        def _split_scope(self, nodeid: str) -> str:
            return next((m for m in ONE_WORKER_MODULES if nodeid.startswith(m)), nodeid)

    return ModuleGroups(config, log)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run is over: exit without the cycle collections of interpreter teardown, which
    cost each test process (the controller and every xdist worker) about a second of CPU
    over the heap of a whole run."""
    gc.freeze()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and sessions live in the shared Redis cache: start every test clean
    (this process's keys only; parallel workers share the Redis database)."""
    clear_cache()
    yield


@pytest.fixture(autouse=True)
def _no_reverse_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-ins look up their address's reverse DNS name (privacy.tasks): in tests no
    address has one, so no test waits on, or depends on, the machine's resolver.
    tests/privacy/test_technical_data.py puts a resolver with names in its place."""

    def no_name(ip: str) -> tuple[str, list[str], list[str]]:
        raise socket.herror(1, "Unknown host")

    monkeypatch.setattr(socket, "gethostbyaddr", no_name)


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", full_name="Alice Archer")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", full_name="Bob Baker")


@pytest.fixture
def charlie(db):
    return UserFactory(
        email="charlie@example.com", full_name="Charlie Staff", is_staff=True, is_superuser=True
    )


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright; never a downloaded browser."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install it with 'apt-get install -y chromium'.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def _kept_pages_of_the_run(browser, live_server, django_db_setup):
    """Pages kept for the run (tests/browser/kept_pages.py); closed before the live server
    stops and the test database is dropped (their keep-alive sockets hold live-server
    threads and those threads' database connections)."""
    from tests.browser.kept_pages import KeptPages

    pages = KeptPages(browser, live_server.url)
    yield pages
    pages.close()


@pytest.fixture
def kept_pages(_kept_pages_of_the_run):
    """Hands out kept pages to this test, and empties them when it ends, pass or fail
    (before the transactional database is flushed). Listeners a test adds to a page
    (page.on) stay on it: the test removes them."""
    yield _kept_pages_of_the_run
    _kept_pages_of_the_run.give_back()


@pytest.fixture
def page(kept_pages, live_server):
    """A page as in a new browser context, at base_url live_server.url."""
    return kept_pages.take()
