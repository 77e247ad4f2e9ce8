"""make bench: each section measures and leaves the database as it found it."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from benchmarks import pages, renewals
from benchmarks.__main__ import END, START, write_table
from benchmarks.table import Row, markdown
from billing.models import DocumentCounter, Invoice, InvoiceLine, Service
from billing.services.renewals import renewals_generate


@pytest.mark.django_db(transaction=True)
def test_the_renewal_section_commits_each_batch_and_cleans_up_after_itself(monkeypatch):
    today = timezone.localdate()
    DocumentCounter.objects.create(series="INV", year=today.year, last_number=41)
    outside_a_transaction = []

    def observed(**kwargs: Any) -> list[int]:
        # Outside any atomic block each batch's transaction really commits, and with it
        # the deferred foreign key checks the figure must include.
        outside_a_transaction.append(not connection.in_atomic_block)
        return renewals_generate(**kwargs)

    monkeypatch.setattr("benchmarks.renewals.renewals_generate", observed)

    [row] = renewals.rows(count=60, customers=7)

    assert row.what == "renewal invoices with their lines for 60 due services, committed"
    assert row.target == "met (< 5 s)"
    assert outside_a_transaction == [True, True]  # the run, then the idempotency check
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()
    assert not Service.objects.exists()
    assert not User.objects.exists()
    assert DocumentCounter.objects.get(series="INV", year=today.year).last_number == 41


def test_the_renewal_section_refuses_to_run_inside_a_transaction(db):
    with pytest.raises(RuntimeError, match="commits"):
        renewals.rows(count=6, customers=2)
    assert not Service.objects.exists()


def test_the_table_replaces_the_previous_one_in_the_document(tmp_path):
    document = tmp_path / "benchmarks.md"
    document.write_text("# Benchmarks\n\nHow we measure.\n")
    write_table(document, markdown([Row(what="first", result="1 req/s")]))
    write_table(document, markdown([Row(what="second", result="2 req/s")]))

    text = document.read_text()
    assert text.startswith("# Benchmarks\n\nHow we measure.\n")
    assert text.count(START) == text.count(END) == 1
    assert "| second | 2 req/s |" in text and "first" not in text


@pytest.mark.django_db(transaction=True)
def test_the_page_section_serves_every_page_under_gunicorn_and_wrk(monkeypatch, settings):
    assert shutil.which("wrk"), "wrk is missing: apt-get install -y wrk (.ci/run does)"
    settings.ROOT_URLCONF = "benchmarks.urls"  # as config.settings.bench, which gunicorn runs
    db = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )

    # A quarter of a second of wrk a page and one gunicorn worker: enough to check the
    # harness, whose figures are not asserted.
    table = pages.rows(duration=0.25, connections=2, repeat=1, workers=1)

    labels = [row.what for row in table]
    assert labels[0].startswith("bare Django")
    assert "/account/profile/" in labels
    assert all(row.result.endswith("req/s") for row in table)
    signed_in_bare = table[2]
    assert signed_in_bare.queries == "0"  # no query, no write before the view


def test_the_bench_serves_with_productions_gunicorn_configuration():
    command = pages.gunicorn_command("config.wsgi", 8123, workers=2, recycle=False)

    assert "--config=" + str(pages.BENCH_DIR.parent / "config" / "gunicorn.py") in command
    # Only what loopback needs is overridden, recycling off so restarts are not measured.
    assert command[-2:] == ["--log-level=warning", "--max-requests=0"]
    assert "--workers=2" in command


def test_each_run_signs_in_afresh_so_the_sessions_page_does_not_grow(alice):
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    earlier = pages.signed_in_client(alice)
    key = earlier.session.session_key
    UserSession.objects.create(user=alice, ip="127.0.0.1", session_key=key, user_agent="wrk")

    now = pages.signed_in_client(alice)

    assert not UserSession.objects.filter(user=alice).exists()
    assert not Session.objects.filter(session_key=key).exists()
    assert Session.objects.filter(session_key=now.session.session_key).exists()
