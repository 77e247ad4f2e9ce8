"""GDPR requests: export, erasure (docs/privacy-promises.md).

An export is built in the background into storages["privacy"] and its link emailed; an
erasure waits a cancellable grace period, then each app's erase runs (privacy/erasure.py),
resumably. Restriction, correction and objection are asked by ticket (support/).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.exceptions import ApplicationError
from core.links import absolute_url
from core.queue import enqueue_on_commit
from notifications.services import notify

from .models import DataRequest

# Privacy's own task, queued by name: privacy.tasks calls these services, never the other
# way round (core.queue.enqueue looks the task up).
BUILD_EXPORT = "privacy.tasks.build_export"


REQUEST_DEADLINE = datetime.timedelta(days=30)  # GDPR Art. 12(3): one month
EXPORT_READY_KIND = "privacy-export-ready"


def _storage() -> Storage:
    return storages["privacy"]


@transaction.atomic
def export_request(*, user: User) -> DataRequest:
    """Records an export request and queues its build on commit. A request still being
    prepared is returned as it is, so a double click builds one zip."""
    pending = (
        DataRequest.objects.select_for_update()
        .filter(
            user=user,
            kind=DataRequest.Kind.EXPORT,
            status__in=[DataRequest.Status.RECEIVED, DataRequest.Status.BUILDING],
        )
        .first()
    )
    if pending is not None:
        return pending
    now = timezone.now()
    request = DataRequest.objects.create(
        user=user, kind=DataRequest.Kind.EXPORT, created_at=now, deadline=now + REQUEST_DEADLINE
    )
    enqueue_on_commit(BUILD_EXPORT, request.pk)
    return request


def export_build(*, request_id: int) -> None:
    """Builds the zip, stores it in storages["privacy"] and emails the link. Idempotent:
    a request already built (or expired) is left alone; a build that died half-way is
    started again from nothing."""
    from . import export

    claimed = DataRequest.objects.filter(
        pk=request_id,
        kind=DataRequest.Kind.EXPORT,
        status__in=[DataRequest.Status.RECEIVED, DataRequest.Status.BUILDING],
    ).update(status=DataRequest.Status.BUILDING)
    if not claimed:
        return
    request = DataRequest.objects.select_related("user").get(pk=request_id)
    path = export.build(user=request.user, request_id=request.pk)
    try:
        with path.open("rb") as data:
            name = _storage().save(f"{request.user_id}/export-{request.pk}.zip", File(data))
        size = path.stat().st_size
    finally:
        path.unlink(missing_ok=True)
    now = timezone.now()
    with transaction.atomic():
        DataRequest.objects.filter(pk=request.pk).update(
            status=DataRequest.Status.READY,
            file_name=name,
            file_size=size,
            completed_at=now,
            expires_at=now + datetime.timedelta(days=settings.PRIVACY_EXPORT_DAYS),
        )
        request.refresh_from_db()
        notify(
            user=request.user,
            kind=EXPORT_READY_KIND,
            context={
                "url": absolute_url(reverse("privacy:export_download", args=[request.pk])),
                "expires_at": request.expires_at,
                "days": settings.PRIVACY_EXPORT_DAYS,
            },
            category="transactional",
            channels=("email",),
        )


def exports_expire() -> int:
    """Beat job: deletes every export file past its expiry and marks the request
    expired; idempotent. Returns how many went."""
    due = list(
        DataRequest.objects.filter(
            kind=DataRequest.Kind.EXPORT,
            status=DataRequest.Status.READY,
            expires_at__lte=timezone.now(),
        ).values_list("pk", "file_name")
    )
    storage = _storage()
    for _, name in due:
        if name:
            storage.delete(name)
    DataRequest.objects.filter(pk__in=[pk for pk, _ in due]).update(
        status=DataRequest.Status.EXPIRED, file_name=""
    )
    return len(due)


ERASURE_SCHEDULED_KIND = "privacy-erasure-scheduled"
ERASURE_CANCEL_SALT = "privacy.erasure-cancel"
LIVE_ERASURE = [
    DataRequest.Status.SCHEDULED,
    DataRequest.Status.RUNNING,
    DataRequest.Status.FAILED,
]


def erasure_cancel_token(data_request: DataRequest) -> str:
    return signing.dumps(data_request.pk, salt=ERASURE_CANCEL_SALT)


def erasure_from_token(token: str) -> DataRequest | None:
    """The erasure a cancel link names, or None for a forged or mangled link."""
    try:
        pk = signing.loads(token, salt=ERASURE_CANCEL_SALT)
    except signing.BadSignature:
        return None
    return DataRequest.objects.filter(pk=pk, kind=DataRequest.Kind.ERASURE).first()


@transaction.atomic
def erasure_request(*, user: User) -> DataRequest:
    """Schedules the customer's erasure after the grace period and emails them a cancel
    link. The caller has re-authenticated the customer. Refused (ApplicationError) while
    an app reports a blocker; a second request returns the live one."""
    from . import erasure

    live = DataRequest.objects.filter(
        user=user, kind=DataRequest.Kind.ERASURE, status__in=LIVE_ERASURE
    ).first()
    if live is not None:
        return live
    found = erasure.blockers(user)
    if found:
        raise ApplicationError(
            "Your account cannot be erased yet: " + " ".join(b.reason for b in found)
        )
    now = timezone.now()
    data_request = DataRequest.objects.create(
        user=user,
        kind=DataRequest.Kind.ERASURE,
        status=DataRequest.Status.SCHEDULED,
        created_at=now,
        deadline=now + REQUEST_DEADLINE,
        erase_after=now + datetime.timedelta(days=settings.PRIVACY_ERASURE_GRACE_DAYS),
    )
    notify(
        user=user,
        kind=ERASURE_SCHEDULED_KIND,
        context={
            "erase_after": data_request.erase_after,
            "cancel_url": absolute_url(
                reverse("privacy:erasure_cancel_link", args=[erasure_cancel_token(data_request)])
            ),
        },
        category="transactional",
        channels=("email",),
    )
    return data_request


def erasure_cancel(*, data_request: DataRequest) -> bool:
    """Cancels a scheduled erasure; False when it has already started (or was
    cancelled). One conditional UPDATE, so it never races the run."""
    return bool(
        DataRequest.objects.filter(
            pk=data_request.pk,
            kind=DataRequest.Kind.ERASURE,
            status=DataRequest.Status.SCHEDULED,
        ).update(status=DataRequest.Status.CANCELLED, completed_at=timezone.now())
    )


def erasure_run(*, request_id: int) -> None:
    """Runs a due erasure (or resumes a failed one where it stopped). Claimed by a
    conditional UPDATE, so two workers never run it at once; a new blocker (an invoice
    issued during the grace period) leaves it scheduled with the reason."""
    from . import erasure

    data_request = DataRequest.objects.select_related("user").get(pk=request_id)
    found = erasure.blockers(data_request.user) if not data_request.steps_done else []
    if found:
        DataRequest.objects.filter(pk=request_id).update(error=" ".join(b.reason for b in found))
        return
    claimed = DataRequest.objects.filter(
        pk=request_id,
        kind=DataRequest.Kind.ERASURE,
        status__in=[DataRequest.Status.SCHEDULED, DataRequest.Status.FAILED],
        erase_after__lte=timezone.now(),
    ).update(status=DataRequest.Status.RUNNING)
    if not claimed:
        return
    data_request.refresh_from_db()
    try:
        erasure.run(data_request)
    except Exception as error:
        DataRequest.objects.filter(pk=request_id).update(
            status=DataRequest.Status.FAILED, error=f"{type(error).__name__}: {error}"
        )
        raise


def erasures_due() -> list[int]:
    return list(
        DataRequest.objects.filter(
            kind=DataRequest.Kind.ERASURE,
            status__in=[DataRequest.Status.SCHEDULED, DataRequest.Status.FAILED],
            erase_after__lte=timezone.now(),
        ).values_list("pk", flat=True)
    )
