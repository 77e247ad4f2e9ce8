from __future__ import annotations

import socket

from celery import shared_task

from . import data_requests, services


@shared_task
def prune_technical_data() -> int:
    """Beat job: deletes per-session technical data past its retention; idempotent."""
    return services.technical_data_prune()


@shared_task
def resolve_network_host(record_id: int) -> None:
    """Looks up the reverse DNS name of a session's IP (its network provider)."""
    from .models import SessionRecord

    ip = SessionRecord.objects.filter(pk=record_id).values_list("ip", flat=True).first()
    if not ip:
        return
    try:
        host = socket.gethostbyaddr(ip)[0]
    except OSError:
        host = ""  # no reverse name: the IP alone stays
    services.session_record_set_network_host(record_id=record_id, host=host)


@shared_task
def announce_document(document_id: int) -> int:
    """Tells every active customer about a newly published version; see document_announce."""
    return services.document_announce(document_id=document_id)


@shared_task
def requeue_pending_work() -> int:
    """Beat job: queues again the lookups and announcements a broker outage dropped."""
    return services.pending_work_requeue()


@shared_task
def build_export(request_id: int) -> None:
    """Builds a customer's export zip and emails the link; see export_build."""
    data_requests.export_build(request_id=request_id)


@shared_task
def delete_expired_exports() -> int:
    """Beat job (hourly): export files past their expiry are deleted; idempotent."""
    return data_requests.exports_expire()


@shared_task
def run_erasure(request_id: int) -> None:
    """One customer's erasure, resumable; see erasure_run."""
    data_requests.erasure_run(request_id=request_id)


@shared_task
def run_due_erasures() -> int:
    """Beat job (every 10 minutes): queues every erasure whose grace period is over,
    and every failed one again (it resumes at the step that failed)."""
    due = data_requests.erasures_due()
    for request_id in due:
        run_erasure.delay(request_id)
    return len(due)
