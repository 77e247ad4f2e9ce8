"""What accounts/ holds about a customer, for GDPR export and erasure (privacy/ calls these)."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.db import transaction

from .models import User
from .services import PROFILE_FIELDS

# What export and erase below reach (privacy/discovery.py checks every model is somewhere).
# LogEntry: django-auditlog's trail of changes to the account row (and its actor column,
# the person who made a change).
MODELS = (User, EmailAddress, Authenticator, UserSession, LogEntry)


def export(user: User) -> dict[str, Any]:
    profile = {name: str(getattr(user, name) or "") for name in PROFILE_FIELDS}
    return {
        "profile": {"email": user.email, **profile, "date_joined": user.date_joined.isoformat()},
        "email_addresses": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("pk")
        ],
        "sessions": [
            {
                "ip": s.ip,
                "user_agent": s.user_agent,
                "created_at": s.created_at.isoformat(),
                "last_seen_at": s.last_seen_at.isoformat(),
            }
            for s in UserSession.objects.filter(user=user).order_by("created_at")
        ],
        "account_changes": [
            {
                "when": entry.timestamp.isoformat(),
                "action": entry.get_action_display(),
                "fields": sorted(entry.changes_dict),
            }
            for entry in LogEntry.objects.get_for_object(user).order_by("timestamp")
        ],
        # Which second factors are on; never the secrets themselves.
        "two_factor_methods": sorted(
            Authenticator.objects.filter(user=user).values_list("type", flat=True)
        ),
    }


@transaction.atomic
def erase(user: User) -> None:
    """Removes the person from the account row; the row stays for what other apps must keep."""
    for session in UserSession.objects.filter(user=user):
        session.end()
    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    for name in PROFILE_FIELDS:
        setattr(user, name, "")
    user.email = f"erased-{user.pk}@invalid.invalid"
    user.is_active = False
    user.set_unusable_password()
    # The audit trail of the account row holds the old name and address in its diffs:
    # it goes, and the erasure itself writes none (an entry would repeat the old values).
    LogEntry.objects.get_for_object(user).delete()
    LogEntry.objects.filter(actor=user).update(actor=None)
    with disable_auditlog():
        user.save()
