from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from core.exceptions import ApplicationError

from .backends import cached_user_forget
from .models import User

PROFILE_FIELDS = (
    "full_name",
    "business_name",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "region",
    "country",
)


@transaction.atomic
def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Writes the given profile fields (not the email: that changes only once verified)."""
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    for name, value in data.items():
        setattr(user, name, value if value is not None else "")
    user.save(update_fields=sorted(data))
    return user


def user_sessions_purge_ended() -> int:
    """Deletes allauth's session rows (IP and browser) whose Django session has ended.

    allauth drops them only when the customer opens the sessions page; without this an
    ended session's technical data would stay for good. Returns how many were deleted.
    """
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    deleted: int
    deleted, _ = UserSession.objects.exclude(session_key__in=live).delete()
    return deleted


@transaction.atomic
def user_restrict_processing(*, user: User) -> bool:
    """Sets the restriction of processing (GDPR art. 18) from now; True if it was not set.

    Marketing, suggestions and measurements read the flag. A second call keeps the
    first date (a conditional UPDATE), so it is idempotent.
    """
    now = timezone.now()
    changed = User.objects.filter(pk=user.pk, processing_restricted_at__isnull=True).update(
        processing_restricted_at=now
    )
    if changed:
        user.processing_restricted_at = now
        # update() sends no post_save: the signed-in copy in the cache must go too.
        cached_user_forget(user_id=user.pk)
    return bool(changed)


@transaction.atomic
def user_lift_processing_restriction(*, user: User) -> bool:
    """Clears the restriction of processing; True if one was set. Idempotent."""
    changed = User.objects.filter(pk=user.pk, processing_restricted_at__isnull=False).update(
        processing_restricted_at=None
    )
    user.processing_restricted_at = None
    if changed:
        cached_user_forget(user_id=user.pk)
    return bool(changed)


def user_send_password_reset(*, request: HttpRequest, user: User) -> None:
    """Sends `user` allauth's password-reset email (through the outbox), as if they had
    asked for it on the sign-in page."""
    from allauth.account.forms import ResetPasswordForm  # imports our sign-up form

    form = ResetPasswordForm(data={"email": user.email})
    if not form.is_valid():
        raise ApplicationError("This account has no email address a reset can be sent to.")
    form.save(request)


def user_resend_verification(*, request: HttpRequest, user: User) -> None:
    """Sends a new confirmation link for the account's unverified primary address."""
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None or address.verified:
        raise ApplicationError(f"{user.email} is already verified.")
    address.send_confirmation(request)


def user_sessions_end(*, user: User) -> int:
    """Signs the account out everywhere: every allauth session and its Django session.
    Returns how many were ended."""
    sessions = list(UserSession.objects.filter(user=user))
    for session in sessions:
        session.end()
    return len(sessions)


@transaction.atomic
def user_suspend(*, user: User) -> int:
    """Suspends the account: it can no longer sign in (is_active off) and every session
    ends now. Returns how many sessions were ended. Undo by ticking "active" again."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    cached_user_forget(user_id=user.pk)
    return user_sessions_end(user=user)
