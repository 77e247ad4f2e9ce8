"""Signed unsubscribe tokens: they name a customer and a purpose, and need no login."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from .models import Purpose

SALT = "notifications.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: int
    purpose: str


def make_unsubscribe_token(*, user_id: int, purpose: str) -> str:
    return signing.dumps({"u": user_id, "p": purpose}, salt=SALT, compress=True)


def read_unsubscribe_token(token: str) -> UnsubscribeRequest | None:
    """The request a token carries, or None when it was not signed by us."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, purpose = data.get("u"), data.get("p")
    if not isinstance(user_id, int) or purpose not in Purpose.values:
        return None
    return UnsubscribeRequest(user_id=user_id, purpose=purpose)
