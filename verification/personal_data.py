"""What verification holds about a customer, for GDPR export and erasure.

Export lists the cases (card facts, states, decisions, fraud reasons) and which
pictures are stored, not the pictures themselves (the customer sees them on the
case page). Erasure deletes the pictures from the storage at once, then the cases,
fraud scores and card attempts; the access log keeps who looked at what, without
the case.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User

from . import services
from .models import CardAttempt, Case, DocumentAccess, RiskAssessment

# What export and erase below reach (privacy/discovery.py checks every model is somewhere).
MODELS = (Case, CardAttempt, RiskAssessment, DocumentAccess)


def _date(value: Any) -> str:
    return value.isoformat() if value else ""


def export(user: User) -> dict[str, Any]:
    cases = Case.objects.filter(user=user).prefetch_related("documents").order_by("pk")
    return {
        "verification_cases": [
            {
                "id": case.pk,
                "card": case.card_label,
                "card_country": case.card_country,
                "card_three_d_secure": case.card_three_d_secure,
                "reason": case.get_reason_display(),
                "status": case.get_status_display(),
                "created_at": _date(case.created_at),
                "submitted_at": _date(case.submitted_at),
                "decided_at": _date(case.decided_at),
                "rejection": case.rejection_text,
                "fraud_score": case.risk_score,
                "fraud_reasons": case.risk_reasons,
                "ip_address": case.ip_address or "",
                "ip_country": case.ip_country,
                "documents": [
                    {"kind": d.get_kind_display(), "uploaded_at": _date(d.uploaded_at)}
                    for d in case.documents.all()
                ],
                "documents_deleted_at": _date(case.documents_purged_at),
            }
            for case in cases
        ],
        "fraud_scores": [
            {
                "subject": row.get_subject_display(),
                "id": row.subject_id,
                "score": row.score,
                "reasons": row.reasons,
                "created_at": _date(row.created_at),
            }
            for row in RiskAssessment.objects.filter(user=user).order_by("pk")
        ],
    }


def erase(user: User) -> None:
    services.documents_erase(user=user)
    with transaction.atomic():
        RiskAssessment.objects.filter(user=user).delete()
        CardAttempt.objects.filter(user=user).delete()
        Case.objects.filter(user=user).delete()
        # The customer's own looks at their pictures: the row stays (staff's log), not
        # who or from where.
        DocumentAccess.objects.filter(viewed_by=user).update(viewed_by=None, ip_address=None)
