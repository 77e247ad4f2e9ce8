"""Celery application: Redis broker, tasks discovered in every app's tasks.py."""

from __future__ import annotations

import gc
import os
import threading

from celery import Celery
from celery.signals import worker_process_shutdown, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("onepanel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_shutdown.connect
@worker_process_shutdown.connect
def skip_teardown_collections(**kwargs: object) -> None:
    """A worker process that has shut down (its tasks finished, its messages acked) skips
    the cycle collections of interpreter teardown: with Django loaded they cost about a
    second of CPU per exit, and nothing at exit waits on a cycle being collected. A worker
    embedded in another process's thread (tests) leaves that process's collector alone."""
    if threading.current_thread() is threading.main_thread():
        gc.freeze()
