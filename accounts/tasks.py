from __future__ import annotations

from celery import shared_task
from django.core import management

from .services import user_sessions_purge_ended


@shared_task
def clear_expired_sessions() -> None:
    """Deletes expired sessions (Django's clearsessions) and allauth's records of them (IP,
    browser); safe to run any number of times."""
    management.call_command("clearsessions")
    user_sessions_purge_ended()
