"""The consent cookie: what one browser chose, signed so it cannot be edited by hand.

Its value holds the visitor's random id, the accepted optional groups, the
declaration version they were shown and when they chose. A choice older than
PRIVACY_CONSENT_MAX_AGE_DAYS, or made against another declaration, counts as no
choice: the banner asks again.
"""

from __future__ import annotations

import fnmatch
import time
import uuid
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase

from core.consent import NO_CHOICE, OPTIONAL_GROUPS, ConsentState
from core.consent import consent_state as consent_state_of

from .models import CookieConsentRecord
from .selectors import CACHE_SECONDS, cookie_declaration, declaration_version

SALT = "privacy.consent"
WITHDRAWAL_KEY = "privacy:withdrawn:{user_id}"
COOKIE_GROUPS_KEY = "privacy:cookie-groups"


def now_ms() -> int:
    return int(time.time() * 1000)


def new_visitor_id() -> str:
    return uuid.uuid4().hex


def encode(*, visitor_id: str, accepted: frozenset[str], version: str, chosen_at: int) -> str:
    groups = ",".join(g for g in OPTIONAL_GROUPS if g in accepted)
    return signing.dumps({"v": visitor_id, "g": groups, "d": version, "t": chosen_at}, salt=SALT)


def _decode(value: str) -> dict[str, Any] | None:
    try:
        data = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int):
        return None
    return data


def max_age_seconds() -> int:
    return settings.PRIVACY_CONSENT_MAX_AGE_DAYS * 24 * 60 * 60


def read(request: HttpRequest) -> ConsentState:
    """The browser's standing choice, or no choice when absent, stale or forged."""
    value = request.COOKIES.get(settings.PRIVACY_CONSENT_COOKIE)
    if not value:
        return NO_CHOICE
    data = _decode(value)
    if data is None:
        return NO_CHOICE
    visitor_id = str(data.get("v", ""))[:32]
    if now_ms() - data["t"] > max_age_seconds() * 1000 or data.get("d") != declaration_version():
        return ConsentState(chosen=False, visitor_id=visitor_id)
    accepted = frozenset(g for g in str(data.get("g", "")).split(",") if g in OPTIONAL_GROUPS)
    user = getattr(request, "user", None)
    if accepted and user is not None and user.is_authenticated:
        # A withdrawal made in another browser applies here too from the next request.
        withdrawn = withdrawals(user_id=user.pk)
        accepted = frozenset(g for g in accepted if withdrawn.get(g, 0) < data["t"])
    return ConsentState(chosen=True, accepted=accepted, visitor_id=visitor_id, chosen_at=data["t"])


def withdrawals(*, user_id: int) -> dict[str, int]:
    """When the customer last withdrew each group (ms), from the ledger; cached.

    The ledger, not the cache, is the record: an emptied or evicted cache must never
    bring a withdrawn consent back.
    """
    key = WITHDRAWAL_KEY.format(user_id=user_id)
    withdrawn: dict[str, int] | None = cache.get(key)
    if withdrawn is None:
        withdrawn = {}
        rows = (
            CookieConsentRecord.objects.filter(
                user_id=user_id, action=CookieConsentRecord.Action.WITHDRAW
            )
            .exclude(withdrawn="")
            .values_list("withdrawn", "created_at")
        )
        for groups, created_at in rows:
            at = int(created_at.timestamp() * 1000)
            for group in groups.split(","):
                withdrawn[group] = max(withdrawn.get(group, 0), at)
        cache.set(key, withdrawn, max_age_seconds())
    return withdrawn


def forget_withdrawals(*, user_id: int) -> None:
    cache.delete(WITHDRAWAL_KEY.format(user_id=user_id))


def write(response: HttpResponseBase, *, state: ConsentState, version: str, at: int) -> None:
    response.set_cookie(
        settings.PRIVACY_CONSENT_COOKIE,
        encode(visitor_id=state.visitor_id, accepted=state.accepted, version=version, chosen_at=at),
        max_age=max_age_seconds(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def cookie_groups() -> list[tuple[str, str]]:
    """(cookie name pattern, group) for every declared cookie; cached with the declaration."""
    patterns: list[tuple[str, str]] | None = cache.get(COOKIE_GROUPS_KEY)
    if patterns is None:
        patterns = [
            (cookie.name, group.varname)
            for group in cookie_declaration()
            for cookie in group.cookies
            if not cookie.domain
        ]
        cache.set(COOKIE_GROUPS_KEY, patterns, CACHE_SECONDS)
    return patterns


def forget_cached_cookie_groups() -> None:
    cache.delete(COOKIE_GROUPS_KEY)


def group_of(name: str) -> str | None:
    for pattern, group in cookie_groups():
        if fnmatch.fnmatchcase(name, pattern):
            return group
    return None


def measurement_allowed(request: HttpRequest, group: str) -> bool:
    """May we measure this visit for `group` (performance, advertising)?

    The cookie choice must allow it, and a signed-in customer whose processing is
    restricted (GDPR art. 18, accounts.User.processing_restricted_at) is never measured,
    whatever the browser's cookie says. The user is read only when consent would allow.
    """
    if not consent_state_of(request).allows(group):
        return False
    user = getattr(request, "user", None)
    return not (
        user is not None and user.is_authenticated and user.processing_restricted_at is not None
    )
