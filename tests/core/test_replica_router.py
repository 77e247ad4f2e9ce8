"""Reports read from a second database (the read replica) through core.db's router."""

from __future__ import annotations

import pytest

from accounts.models import User
from core.db import reporting


@pytest.mark.django_db(databases=["default", "replica"])
def test_reads_inside_reporting_go_to_the_replica_and_writes_to_default(alice):
    # Here the replica is a database of its own, holding another customer than default,
    # so each answer shows which database it came from.
    User.objects.using("replica").create(email="only-on-the-replica@example.com")

    assert list(User.objects.values_list("email", flat=True)) == ["alice@example.com"]
    with reporting():
        assert list(User.objects.values_list("email", flat=True)) == [
            "only-on-the-replica@example.com"
        ]
        User.objects.create(email="written-while-reporting@example.com")
        replica_row = User.objects.get(email="only-on-the-replica@example.com")
    assert User.objects.filter(email="written-while-reporting@example.com").exists()
    assert (
        not User.objects.using("replica")
        .filter(email="written-while-reporting@example.com")
        .exists()
    )
    # A row read from the replica is saved to default, never to the replica.
    replica_row.pk = None
    replica_row.email = "copied-from-the-replica@example.com"
    replica_row.save()
    assert User.objects.filter(email="copied-from-the-replica@example.com").exists()


@pytest.mark.django_db
def test_without_a_replica_reports_read_from_default(alice, settings):
    settings.DATABASES = {"default": settings.DATABASES["default"]}

    with reporting():
        assert list(User.objects.values_list("email", flat=True)) == ["alice@example.com"]


@pytest.mark.django_db
def test_with_db_pool_max_size_each_process_reads_through_psycopgs_pool():
    import os

    from django.db import connection

    from tests.commands import run_manage

    db = connection.settings_dict
    code = (
        "from django.db import connection; connection.ensure_connection(); "
        "print(type(connection.pool).__name__, connection.pool.max_size, "
        "connection.settings_dict['CONN_MAX_AGE'])"
    )
    result = run_manage(
        "shell",
        "--verbosity=0",
        "-c",
        code,
        env=os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DB_POOL_MAX_SIZE": "4",
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ConnectionPool", "4", "0"]
