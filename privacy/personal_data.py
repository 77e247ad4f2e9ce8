"""The personal data privacy/ holds about a customer (GDPR export and erasure)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import storages

from accounts.models import User

from .models import CookieConsentRecord, DataRequest, DocumentAcceptance, SessionRecord

# What export and erase below reach (privacy/discovery.py checks every model is somewhere).
MODELS = (CookieConsentRecord, DocumentAcceptance, SessionRecord, DataRequest)


def export(user: User) -> dict[str, Any]:
    return {
        "consent_records": [
            {
                "at": r.created_at.isoformat(),
                "action": r.action,
                "visitor_id": r.visitor_id,
                "functional": r.functional,
                "performance": r.performance,
                "advertising": r.advertising,
                "withdrawn": r.withdrawn_groups,
                "declaration_version": r.declaration_version,
                "privacy_policy_version": r.policy.version if r.policy else None,
                "ip": r.ip,
            }
            for r in CookieConsentRecord.objects.filter(user=user).select_related("policy")
        ],
        "document_acceptances": [
            {
                "at": a.accepted_at.isoformat(),
                "document": a.document.kind,
                "version": a.document.version,
                "source": a.source,
                "ip": a.ip,
            }
            for a in DocumentAcceptance.objects.filter(user=user).select_related("document")
        ],
        "sessions": [
            {
                "signed_in_at": s.signed_in_at.isoformat(),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "browser": s.browser,
                "operating_system": s.operating_system,
                "device_type": s.device_type,
                "protocol": s.protocol,
                "network_host": s.network_host,
            }
            for s in SessionRecord.objects.filter(user=user)
        ],
        "data_requests": [
            {
                "kind": r.kind,
                "status": r.status,
                "created_at": r.created_at.isoformat(),
                "deadline": r.deadline.isoformat(),
                "completed_at": r.completed_at.isoformat() if r.completed_at else None,
            }
            for r in DataRequest.objects.filter(user=user).order_by("created_at", "pk")
        ],
    }


def erase(user: User) -> None:
    # Consent rows of an erased customer stay as anonymous visitor rows (no user, no IP):
    # the ledger still proves what that browser chose, without saying who.
    CookieConsentRecord.objects.filter(user=user).update(user=None, ip=None)
    DocumentAcceptance.objects.filter(user=user).delete()
    SessionRecord.objects.filter(user=user).delete()
    # Export files go now; the request rows stay (kind, dates, state and no content) as
    # the record that the customer's rights were answered.
    storage = storages["privacy"]
    for name in (
        DataRequest.objects.filter(user=user)
        .exclude(file_name="")
        .values_list("file_name", flat=True)
    ):
        storage.delete(name)
    DataRequest.objects.filter(user=user).exclude(file_name="").update(
        file_name="", status=DataRequest.Status.EXPIRED
    )
