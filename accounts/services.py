from __future__ import annotations

from typing import Any

from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

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
