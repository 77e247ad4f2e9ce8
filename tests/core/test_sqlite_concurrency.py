"""The embedded default on SQLite: two requests writing at once both succeed.

A page load and the consent beacon sent beside it used to meet as two writers: the
one whose read turned into a write got "database is locked" (a 500). The settings
put SQLite in WAL mode, take the write lock at BEGIN and wait out a busy timeout.
"""

from __future__ import annotations

import os

from tests.commands import run_manage

TWO_WRITERS = """
import threading, time
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE hits (n integer)")
    cursor.execute("PRAGMA journal_mode")
    print("journal", cursor.fetchone()[0])

first_has_read = threading.Event()
errors = []

def write(name, wait_for=None, pause=0.0):
    try:
        if wait_for is not None:
            wait_for.wait(5)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM hits")
                first_has_read.set()
                time.sleep(pause)
                cursor.execute("INSERT INTO hits VALUES (1)")
    except Exception as exc:
        errors.append(f"{name}: {exc}")
    finally:
        connection.close()

first = threading.Thread(target=write, args=("first",), kwargs={"pause": 0.5})
second = threading.Thread(target=write, args=("second", first_has_read))
first.start(); second.start(); first.join(); second.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM hits")
    print("rows", cursor.fetchone()[0])
print("errors", errors)
"""


def test_two_concurrent_writes_on_the_embedded_sqlite_both_succeed(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    result = run_manage("shell", "--verbosity=0", "-c", TWO_WRITERS, env=env, timeout=60)

    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert "journal wal" in lines
    assert "errors []" in lines, result.stdout
    assert "rows 2" in lines
