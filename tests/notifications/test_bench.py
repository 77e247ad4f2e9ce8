from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from notifications import bench
from notifications.models import OutboxMessage
from tests.servers import WORKER_BROKER_URL, purge, use_broker


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_delivers_every_message_through_a_worker_and_cleans_up(monkeypatch, alice):
    from config.celery import app

    db = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    monkeypatch.setenv("CELERY_BROKER_URL", WORKER_BROKER_URL)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.base")
    undo = use_broker(app, WORKER_BROKER_URL)
    purge(app)
    try:
        result = bench.run(messages=30, concurrency=1)
    finally:
        undo()

    assert result.smtp_received == 30
    assert result.emails_per_second > 0
    assert result.peak_rss_worker_mib > 0
    assert not OutboxMessage.objects.exists()
    assert list(type(alice).objects.values_list("email", flat=True)) == ["alice@example.com"]


@pytest.mark.django_db
def test_the_command_refuses_to_run_without_a_broker(settings):
    settings.DEBUG = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with pytest.raises(CommandError, match="needs a broker"):
        call_command("bench_notifications", messages=10)


@pytest.mark.django_db
def test_the_command_refuses_to_run_on_a_production_configuration(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=true"):
        call_command("bench_notifications", messages=10)
