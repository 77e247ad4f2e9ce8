from __future__ import annotations

from celery import shared_task
from django.core import management


@shared_task
def clear_expired_sessions() -> None:
    """Deletes expired sessions (Django's clearsessions); safe to run any number of times."""
    management.call_command("clearsessions")
