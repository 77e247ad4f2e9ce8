from __future__ import annotations

from celery import shared_task

from .health import worker_heartbeat_record


@shared_task(ignore_result=True)
def worker_heartbeat() -> None:
    """Beat job: a worker that runs it proves broker, beat and worker work (see /healthz)."""
    worker_heartbeat_record()
