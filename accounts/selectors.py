from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.utils import timezone

from .models import User


def user_security_summary(*, user: User) -> dict[str, object]:
    """What the dashboard and the account page say about a customer's sign-in safety."""
    emails = list(EmailAddress.objects.filter(user=user).order_by("-primary", "email"))
    primary = next((e for e in emails if e.primary), None)
    pending = next((e for e in emails if not e.primary and not e.verified), None)
    return {
        "email_verified": bool(primary and primary.verified),
        "pending_email": pending.email if pending else "",
        "has_totp": Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
        "session_count": UserSession.objects.filter(user=user).count(),
    }


def user_session_list(*, user: User) -> list[UserSession]:
    """The customer's live sessions, oldest first, in one query that writes nothing.

    allauth's own list checks every session one by one and deletes the ended ones;
    here sessions whose Django session has expired or gone are left out of the list,
    and the nightly cleanup (accounts.tasks.clear_expired_sessions) deletes them.
    """
    live_keys = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return list(
        UserSession.objects.filter(user=user, session_key__in=live_keys).order_by("created_at")
    )
