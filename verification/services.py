"""Verification's writes: the gate billing asks before a charge, the customer's
pictures, staff decisions, the access log, retention and key rotation.

Nothing here imports billing: billing asks `card_charge_check` and later reads
the case's state (billing.services.scheduled_charges.verification_holds_settle).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.exceptions import ApplicationError
from core.links import absolute_url
from notifications.services import notify

from . import crypto, risk
from .models import (
    OPEN_STATUSES,
    CardAttempt,
    Case,
    CaseReason,
    CaseStatus,
    Document,
    DocumentAccess,
    DocumentKind,
    RejectionReason,
    RiskAssessment,
    RiskSubject,
)
from .storage import document_storage
from .uploads import CleanFile

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardFacts:
    """What billing knows of a saved card, as plain data."""

    fingerprint: str
    brand: str
    last4: str
    country: str
    three_d_secure_supported: bool


@dataclass(frozen=True)
class ChargeCheck:
    """The gate's answer: charge now, or wait for case `case_id`."""

    allowed: bool
    case_id: int | None
    risk: risk.Risk


# --- the gate ----------------------------------------------------------------


def card_charge_check(
    *,
    user: User,
    card: CardFacts,
    first_card_payment: bool,
    visitor: risk.Visitor | None = None,
) -> ChargeCheck:
    """May this card be charged for `user` now? The rule of docs/verification.md.

    1. A card of an approved case (same Stripe fingerprint, same customer) pays.
    2. A card with an open case (waiting for pictures, under review, rejected and
       not yet sent again) waits for it.
    3. A customer with an approved case pays with another card too, except a card
       without 3-D Secure when VERIFICATION_APPROVED_CUSTOMER_NEW_CARD is "verify".
    4. A fraud score at or above VERIFICATION_RISK_THRESHOLD waits for review,
       even with 3-D Secure.
    5. A card without 3-D Secure on the customer's first card payment waits for
       pictures.
    6. Anything else pays (a 3-D Secure card is authenticated by Stripe).

    Records the attempt (the "many cards" signal); opens at most one case per card.
    """
    fingerprint = card.fingerprint or f"unknown-{card.brand}-{card.last4}"
    CardAttempt.objects.create(user=user, card_fingerprint=fingerprint)
    assessment = risk.assess(user=user, visitor=visitor, card_country=card.country)
    cases = Case.objects.filter(user=user, card_fingerprint=fingerprint)
    if cases.filter(status=CaseStatus.APPROVED).exists():
        return ChargeCheck(allowed=True, case_id=None, risk=assessment)
    open_case = cases.filter(status__in=OPEN_STATUSES).first()
    if open_case is not None:
        return ChargeCheck(allowed=False, case_id=open_case.pk, risk=assessment)
    reason: str | None = None
    if Case.objects.filter(user=user, status=CaseStatus.APPROVED).exists():
        if (
            not card.three_d_secure_supported
            and settings.VERIFICATION_APPROVED_CUSTOMER_NEW_CARD == "verify"
        ):
            reason = CaseReason.NO_THREE_D_SECURE
    elif assessment.score >= settings.VERIFICATION_RISK_THRESHOLD:
        reason = CaseReason.RISK
    elif not card.three_d_secure_supported and first_card_payment:
        reason = CaseReason.NO_THREE_D_SECURE
    if reason is None:
        return ChargeCheck(allowed=True, case_id=None, risk=assessment)
    case = _case_open(
        user=user, card=card, fingerprint=fingerprint, reason=reason, assessment=assessment
    )
    return ChargeCheck(allowed=False, case_id=case.pk, risk=assessment)


def _case_open(
    *, user: User, card: CardFacts, fingerprint: str, reason: str, assessment: risk.Risk
) -> Case:
    """The open case of this card, made once even when two payments race."""
    values = {
        "card_brand": card.brand,
        "card_last4": card.last4,
        "card_country": card.country,
        "card_three_d_secure": card.three_d_secure_supported,
        "reason": reason,
        "risk_score": assessment.score,
        "risk_reasons": list(assessment.reasons),
        "billing_country": str(user.country or ""),
        "ip_address": assessment.ip_address or None,
        "ip_country": assessment.ip_country,
    }
    try:
        with transaction.atomic():
            case = Case.objects.create(user=user, card_fingerprint=fingerprint, **values)
            notify(
                user=user,
                kind="verification-requested",
                context={"card": case.card_label, "case_url": _case_url(case)},
            )
            return case
    except IntegrityError:
        return Case.objects.get(user=user, card_fingerprint=fingerprint, status__in=OPEN_STATUSES)


def _case_url(case: Case) -> str:
    return absolute_url(reverse("verification:case", args=[case.pk]))


# --- fraud scores of billing's rows -----------------------------------------


def risk_record(
    *, user: User, subject: RiskSubject, subject_id: int, assessment: risk.Risk
) -> RiskAssessment:
    """Keeps the score of an order or a payment (by billing's id). Idempotent by subject."""
    row, _ = RiskAssessment.objects.update_or_create(
        subject=subject,
        subject_id=subject_id,
        defaults={
            "user": user,
            "score": assessment.score,
            "reasons": list(assessment.reasons),
            "ip_address": assessment.ip_address or None,
            "ip_country": assessment.ip_country,
        },
    )
    return row


def order_risk_record(*, user: User, order_id: int, visitor: risk.Visitor) -> RiskAssessment:
    """The fraud score of a new order (billing's id): visitor, email, cards tried."""
    return risk_record(
        user=user,
        subject=RiskSubject.ORDER,
        subject_id=order_id,
        assessment=risk.assess(user=user, visitor=visitor),
    )


def risk_add_radar(*, subject_id: int, risk_level: str, risk_score: int | None) -> None:
    """Adds Stripe Radar's outcome of the charge to a payment's score (once)."""
    row = RiskAssessment.objects.filter(subject=RiskSubject.PAYMENT, subject_id=subject_id).first()
    points, reason = risk.radar_signal(risk_level=risk_level, risk_score=risk_score)
    if row is None or not reason or reason in row.reasons:
        return
    row.reasons = [*row.reasons, reason]
    row.score = min(100, row.score + points)
    row.save(update_fields=["reasons", "score"])


# --- the customer's pictures -------------------------------------------------


def documents_submit(*, case: Case, card_picture: CleanFile, identity_picture: CleanFile) -> Case:
    """Stores both checked files (verification.uploads.clean_upload, which DocumentsForm
    runs, so a refused file never gets here) encrypted, and puts the case under review.

    Sending again after a rejection replaces the earlier pictures; a failure on the
    way deletes what was stored.
    """
    if not case.accepts_documents:
        raise ApplicationError("This verification is not waiting for pictures.")
    cleaned = {DocumentKind.CARD: card_picture, DocumentKind.IDENTITY: identity_picture}
    storage = document_storage()
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            if not locked.accepts_documents:
                raise ApplicationError("This verification is not waiting for pictures.")
            old = list(locked.documents.all())
            for document in old:
                transaction.on_commit(partial(storage.delete, document.storage_name))
            Document.objects.filter(pk__in=[d.pk for d in old]).delete()
            for kind, clean in cleaned.items():
                name, key = _store(clean)
                stored.append(name)
                Document.objects.create(
                    case=locked,
                    kind=kind,
                    storage_name=name,
                    content_type=clean.content_type,
                    size=len(clean.content),
                    key_id=key,
                )
            locked.status = CaseStatus.UNDER_REVIEW
            locked.submitted_at = timezone.now()
            locked.decided_at = None
            locked.decided_by = None
            locked.save(update_fields=["status", "submitted_at", "decided_at", "decided_by"])
    except BaseException:
        for name in stored:
            storage.delete(name)
        raise
    return locked


def _store(clean: CleanFile) -> tuple[str, str]:
    token, key = crypto.seal(clean.content)
    name = document_storage().save(f"cases/{secrets.token_hex(20)}.bin", ContentFile(token))
    return name, key


def document_read(*, document: Document) -> bytes:
    """The decrypted bytes of a stored document."""
    with document_storage().open(document.storage_name, "rb") as handle:
        token = handle.read()
    return crypto.open_sealed(token, sealed_with=document.key_id)


def document_access_log(*, document: Document, viewer: User, ip_address: str | None) -> None:
    """Writes who opened a document; the log is read-only in the admin."""
    DocumentAccess.objects.create(
        document=document,
        case_id=document.case_id,
        document_kind=document.kind,
        viewed_by=viewer,
        ip_address=ip_address or None,
    )


# --- staff decisions -----------------------------------------------------------


@transaction.atomic
def case_approve(*, case: Case, staff: User) -> Case:
    """Approves the card and the customer; billing charges the held invoice when it reads
    the approved state. Tells the customer by email and SMS. A repeat is a no-op."""
    updated = Case.objects.filter(pk=case.pk, status=CaseStatus.UNDER_REVIEW).update(
        status=CaseStatus.APPROVED, decided_at=timezone.now(), decided_by=staff
    )
    case.refresh_from_db()
    if updated:
        _tell(case=case, kind="verification-approved", extra={})
    return case


@transaction.atomic
def case_reject(*, case: Case, staff: User, reason: str, note: str) -> Case:
    """Rejects the pictures with a reason from the list and free text; the customer may
    send pictures again. Tells the customer by email and SMS. A repeat is a no-op."""
    if reason not in RejectionReason.values:
        raise ApplicationError("Choose a reason from the list.")
    if reason == RejectionReason.OTHER and not note.strip():
        raise ApplicationError("Say what the other reason is.")
    updated = Case.objects.filter(pk=case.pk, status=CaseStatus.UNDER_REVIEW).update(
        status=CaseStatus.REJECTED,
        decided_at=timezone.now(),
        decided_by=staff,
        rejection_reason=reason,
        rejection_note=note.strip(),
    )
    case.refresh_from_db()
    if updated:
        _tell(case=case, kind="verification-rejected", extra={"reason": case.rejection_text})
    return case


def _tell(*, case: Case, kind: str, extra: dict[str, str]) -> None:
    notify(
        user=case.user,
        kind=kind,
        context={"card": case.card_label, "case_url": _case_url(case), **extra},
        channels=("email", "sms"),
    )


# --- retention and erasure ---------------------------------------------------


def documents_purge(*, now: dt.datetime | None = None) -> int:
    """Deletes the pictures of cases decided VERIFICATION_DOCUMENT_RETENTION_DAYS ago or
    more; the case (the decision) and the access log stay. Idempotent; returns the count."""
    cutoff = (now or timezone.now()) - dt.timedelta(
        days=settings.VERIFICATION_DOCUMENT_RETENTION_DAYS
    )
    documents = Document.objects.filter(
        case__status__in=[CaseStatus.APPROVED, CaseStatus.REJECTED], case__decided_at__lte=cutoff
    )
    return _documents_delete(documents=documents)


def documents_erase(*, user: User) -> int:
    """Deletes every picture of `user` at once (account erasure)."""
    return _documents_delete(documents=Document.objects.filter(case__user=user))


def _documents_delete(*, documents: QuerySet[Document]) -> int:
    rows = list(documents.values_list("pk", "storage_name", "case_id"))
    if not rows:
        return 0
    storage = document_storage()
    for _, name, _ in rows:
        storage.delete(name)
    with transaction.atomic():
        Document.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
        Case.objects.filter(pk__in={case_id for _, _, case_id in rows}).update(
            documents_purged_at=timezone.now()
        )
    return len(rows)


def documents_rotate_keys() -> int:
    """Re-encrypts under the first DOCUMENT_ENCRYPTION_KEYS key every file sealed with
    another one. The new file is written before the row points at it and the old one
    is deleted after, so an interruption loses nothing; running again continues."""
    current = crypto.current_key_id()
    storage = document_storage()
    count = 0
    for document in Document.objects.exclude(key_id=current).iterator():
        with storage.open(document.storage_name, "rb") as handle:
            token, key = crypto.reseal(handle.read())
        new_name = storage.save(f"cases/{secrets.token_hex(20)}.bin", ContentFile(token))
        updated = Document.objects.filter(
            pk=document.pk, storage_name=document.storage_name
        ).update(storage_name=new_name, key_id=key)
        storage.delete(document.storage_name if updated else new_name)
        count += updated
    return count
