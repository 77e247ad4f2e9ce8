from __future__ import annotations

import os

import psycopg
import pytest

from tests.commands import run_manage

# One per test process: parallel workers and other checkouts share the PostgreSQL server.
SCRATCH = f"onepanel_ensure_database_test_{os.getpid()}"


def _admin_connection(settings) -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def scratch_url(settings):
    db = settings.DATABASES["default"]
    yield f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{SCRATCH}"
    with _admin_connection(settings) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}"')


def _ensure(url: str):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": url,
    }
    return run_manage("ensure_database", env=env, timeout=60)


def test_it_creates_a_missing_database_once(settings, scratch_url):
    first, second = _ensure(scratch_url), _ensure(scratch_url)

    assert first.returncode == second.returncode == 0, first.stderr
    assert "Created database" in first.stdout
    assert second.stdout == ""
    with _admin_connection(settings) as connection:
        query = "SELECT 1 FROM pg_database WHERE datname = %s"
        assert connection.execute(query, [SCRATCH]).fetchone()


def test_it_says_clearly_when_postgres_is_not_there():
    result = _ensure(f"postgres://postgres@127.0.0.1:1/{SCRATCH}")

    assert result.returncode != 0
    assert "PostgreSQL is not reachable" in result.stderr
