from __future__ import annotations

from django.conf import settings

from config.celery import app


def test_celery_is_configured_for_at_least_once_delivery():
    conf = app.conf

    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_connection_retry_on_startup is True
    assert conf.broker_url.startswith("redis://")


def test_every_beat_job_names_a_registered_task():
    app.loader.import_default_modules()

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def test_the_session_cleanup_job_removes_expired_sessions(db):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.tasks import clear_expired_sessions

    Session.objects.create(
        session_key="old", session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="new", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )

    clear_expired_sessions.delay()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]
