"""The "we have updated our policy" notice, kept in the customer's session.

Which versions await a customer's acceptance is worked out when they sign in and
again only when a new version is published (a generation number in the shared
cache), so ordinary pages ask the database nothing.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import User

from .consent import now_ms
from .models import LegalDocument
from .selectors import documents_awaiting_acceptance

GENERATION_KEY = "privacy:documents-generation"
SESSION_KEY = "privacy_notice"


def bump_generation() -> None:
    cache.set(GENERATION_KEY, now_ms(), None)


def refresh(request: HttpRequest, user: User) -> list[int]:
    ids = [doc.pk for doc in documents_awaiting_acceptance(user=user)]
    request.session[SESSION_KEY] = {"gen": cache.get(GENERATION_KEY, 0), "ids": ids}
    return ids


def pending(request: HttpRequest, user: User) -> list[LegalDocument]:
    """The versions to show in the notice for a signed-in customer (usually none)."""
    stored = request.session.get(SESSION_KEY)
    if stored is None or stored.get("gen") != cache.get(GENERATION_KEY, 0):
        ids = refresh(request, user)
    else:
        ids = stored["ids"]
    if not ids:
        return []
    return list(LegalDocument.objects.filter(pk__in=ids).order_by("kind"))
