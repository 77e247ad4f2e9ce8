"""Privacy writes: consent choices, policy versions and their acceptance, anonymous
measurements and per-session technical data."""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.useragent import describe
from core.consent import OPTIONAL_GROUPS
from core.exceptions import ApplicationError
from core.links import absolute_url
from core.queue import enqueue, enqueue_on_commit
from notifications.services import notify

from .consent import forget_withdrawals
from .models import (
    CookieConsentRecord,
    DocumentAcceptance,
    LegalDocument,
    PageTiming,
    PageVisit,
    SessionRecord,
)
from .notice import bump_generation
from .selectors import current_documents, declaration_version, forget_cached_documents

# Privacy's own tasks, queued by name: privacy.tasks calls these services, never the other
# way round (core.queue.enqueue looks the task up).
ANNOUNCE_DOCUMENT = "privacy.tasks.announce_document"
RESOLVE_NETWORK_HOST = "privacy.tasks.resolve_network_host"


def consent_record(
    *,
    visitor_id: str,
    user: User | None,
    action: str,
    accepted: frozenset[str],
    ip: str | None,
    withdrawn: frozenset[str] = frozenset(),
) -> CookieConsentRecord:
    """Appends one choice to the ledger with the declaration and policy versions shown.

    Rows are never updated: the ledger is the proof of what was chosen when.
    """
    if action not in CookieConsentRecord.Action.values:
        raise ApplicationError(f"Unknown consent action {action!r}.")
    unknown = accepted - set(OPTIONAL_GROUPS)
    if unknown:
        raise ApplicationError(f"Unknown cookie groups: {', '.join(sorted(unknown))}.")
    return CookieConsentRecord.objects.create(
        visitor_id=visitor_id,
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        functional="functional" in accepted,
        performance="performance" in accepted,
        advertising="advertising" in accepted,
        declaration_version=declaration_version(),
        withdrawn=",".join(g for g in OPTIONAL_GROUPS if g in withdrawn),
        policy=current_documents().privacy,
        ip=ip,
    )


@transaction.atomic
def consent_withdraw(
    *, user: User, visitor_id: str, accepted: frozenset[str], groups: frozenset[str], ip: str | None
) -> tuple[CookieConsentRecord, frozenset[str]]:
    """Withdraws `groups` from the customer's consent, at once and on every browser.

    Records the remaining answers and the withdrawn groups in the ledger; other browsers
    signed in to the account read the withdrawal (cached from the ledger) on their next
    request.
    """
    remaining = accepted - groups
    record = consent_record(
        visitor_id=visitor_id,
        user=user,
        action=CookieConsentRecord.Action.WITHDRAW,
        accepted=remaining,
        ip=ip,
        withdrawn=groups,
    )
    transaction.on_commit(lambda: forget_withdrawals(user_id=user.pk))
    return record, remaining


def hash_session_key(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


@transaction.atomic
def document_accept(
    *, user: User, document: LegalDocument, source: str, ip: str | None
) -> DocumentAcceptance:
    """Records that `user` accepted `document`; accepting twice keeps the first record."""
    if not document.is_published:
        raise ApplicationError("Only a published version can be accepted.")
    acceptance, _ = DocumentAcceptance.objects.get_or_create(
        user=user, document=document, defaults={"source": source, "ip": ip}
    )
    return acceptance


@transaction.atomic
def documents_accept_current(*, user: User, source: str, ip: str | None) -> list[LegalDocument]:
    """Records acceptance of the privacy policy and terms in force (sign-up, notice)."""
    current = current_documents()
    accepted = []
    for document in (current.privacy, current.terms):
        if document is not None:
            document_accept(user=user, document=document, source=source, ip=ip)
            accepted.append(document)
    return accepted


@transaction.atomic
def document_publish(*, document: LegalDocument) -> bool:
    """Publishes a draft version and queues the announcement to every customer.

    Idempotent: publishing an already published version changes nothing and returns False.
    A version must be newer than every published version of its kind.
    """
    document = LegalDocument.objects.select_for_update().get(pk=document.pk)
    if document.is_published:
        return False
    latest = LegalDocument.objects.filter(kind=document.kind, published_at__isnull=False).aggregate(
        latest=Max("version")
    )["latest"]
    if latest is not None and document.version <= latest:
        raise ApplicationError(
            f"Version {document.version} is not newer than the published version {latest}."
        )
    document.published_at = timezone.now()
    document.save(update_fields=["published_at"])
    transaction.on_commit(forget_cached_documents)
    transaction.on_commit(bump_generation)
    enqueue_on_commit(ANNOUNCE_DOCUMENT, document.pk)
    return True


ANNOUNCEMENT_KIND = "privacy-document-published"
ANNOUNCEMENT_BATCH = 500


def document_announce(*, document_id: int) -> int:
    """Emails every active customer who joined before `document` was published.

    Runs in batches, one transaction each, so a failure part-way keeps what was queued;
    the notification outbox, not this loop, delivers. A version is announced once: the
    first run claims announced_at, a repeat returns 0. Returns how many were told.
    """
    document = LegalDocument.objects.get(pk=document_id, published_at__isnull=False)
    if not LegalDocument.objects.filter(pk=document.pk, announced_at__isnull=True).update(
        announced_at=timezone.now()
    ):
        return 0  # announced already (a repeat task, or the sweep and the task both ran)
    customers = (
        User.objects.filter(is_active=True, date_joined__lt=document.published_at)
        .order_by("pk")
        .only("pk", "email", "full_name")
    )
    told = 0
    last_pk = 0
    while True:
        batch = list(customers.filter(pk__gt=last_pk)[:ANNOUNCEMENT_BATCH])
        if not batch:
            return told
        with transaction.atomic():
            for customer in batch:
                _announce(customer=customer, document=document)
        told += len(batch)
        last_pk = batch[-1].pk


def _announce(*, customer: User, document: LegalDocument) -> None:
    """The one place privacy tells a customer about a new version."""
    path = (
        "privacy:policy_version"
        if document.kind == LegalDocument.Kind.PRIVACY
        else ("privacy:terms_version")
    )
    notify(
        user=customer,
        kind=ANNOUNCEMENT_KIND,
        context={
            "document_title": document.title,
            "version": document.version,
            "effective_date": document.effective_date.isoformat(),
            "change_summary": document.change_summary,
            "url": absolute_url(reverse(path, args=[document.version])),
        },
        category="transactional",
        channels=("email",),
    )


def page_timing_record(*, path: str, ttfb_ms: int, dom_ready_ms: int, load_ms: int) -> None:
    """Stores one page load's timings: path and numbers only, no visitor data."""
    PageTiming.objects.create(
        path=path[:200],
        ttfb_ms=ttfb_ms,
        dom_ready_ms=dom_ready_ms,
        load_ms=load_ms,
        recorded_on=timezone.localdate(),
    )


def page_visit_record(*, path: str, from_path: str, seconds_on_page: int | None) -> None:
    """Stores one anonymous page-path record: where from, where to, how long."""
    PageVisit.objects.create(
        path=path[:200],
        from_path=from_path[:200],
        seconds_on_page=seconds_on_page,
        recorded_on=timezone.localdate(),
    )


def session_record_create(
    *, user: User, session_key: str, ip: str | None, user_agent: str, secure: bool, protocol: str
) -> SessionRecord:
    """Keeps the technical data of a new signed-in session and queues the network lookup."""
    client = describe(user_agent)
    record = SessionRecord.objects.create(
        user=user,
        session_key_hash=hash_session_key(session_key),
        ip=ip,
        user_agent=user_agent[:1000],
        browser=client.browser[:100],
        operating_system=client.os[:100],
        device_type=client.device[:20],
        protocol=f"{'HTTPS' if secure else 'HTTP'} ({protocol})" if protocol else "",
    )
    if ip:
        enqueue_on_commit(RESOLVE_NETWORK_HOST, record.pk)
    return record


def session_record_set_network_host(*, record_id: int, host: str) -> None:
    """Keeps the reverse DNS name ('' when there is none) and marks the lookup done."""
    SessionRecord.objects.filter(pk=record_id).update(
        network_host=host[:255], network_host_checked_at=timezone.now()
    )


# What a request queued and the broker may have dropped is picked up after this long.
SWEEP_AFTER = datetime.timedelta(minutes=5)


def pending_work_requeue(*, now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Beat sweep: queues again the lookups and announcements a broker outage dropped.

    Both tasks are idempotent (a lookup rewrites the same name, an announcement is
    claimed once), so a task still waiting in the broker may run twice, harmlessly.
    Returns how many tasks were queued.
    """
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    lookups = list(
        SessionRecord.objects.filter(
            ip__isnull=False, network_host_checked_at__isnull=True, signed_in_at__lt=cutoff
        ).values_list("pk", flat=True)[:batch_size]
    )
    documents = list(
        LegalDocument.objects.filter(
            published_at__lt=cutoff, announced_at__isnull=True
        ).values_list("pk", flat=True)
    )
    queued = [enqueue(RESOLVE_NETWORK_HOST, pk) for pk in lookups]
    queued += [enqueue(ANNOUNCE_DOCUMENT, pk) for pk in documents]
    return sum(queued)


def technical_data_prune(*, now: datetime.datetime | None = None) -> int:
    """Deletes session records older than PRIVACY_TECHNICAL_DATA_DAYS in one query."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.PRIVACY_TECHNICAL_DATA_DAYS)
    deleted, _ = SessionRecord.objects.filter(signed_in_at__lt=cutoff).delete()
    return deleted
