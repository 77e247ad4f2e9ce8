from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def purge_decided_documents() -> int:
    """Beat (daily): pictures of cases decided VERIFICATION_DOCUMENT_RETENTION_DAYS ago."""
    return services.documents_purge()
