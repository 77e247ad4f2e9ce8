"""Reads shared by privacy's views, middleware and tasks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cookie_consent.models import Cookie, CookieGroup
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from accounts.models import User

from .models import (
    CookieConsentRecord,
    DataRequest,
    DocumentAcceptance,
    LegalDocument,
    SessionRecord,
)

DECLARATION_CACHE_KEY = "privacy:declaration-version"
DOCUMENTS_CACHE_KEY = "privacy:current-documents"
# Admin edits clear these at once; a data migration (no signals) shows within 5 minutes.
CACHE_SECONDS = 5 * 60


@dataclass(frozen=True)
class DeclaredCookie:
    name: str
    domain: str
    purpose: str
    provider: str
    lifetime: str
    third_party: bool


@dataclass(frozen=True)
class DeclaredGroup:
    varname: str
    name: str
    description: str
    required: bool
    cookies: tuple[DeclaredCookie, ...]


def _configured_names() -> dict[str, str]:
    """Django's default cookie names as this deployment really sets them (production uses
    __Host-sessionid and __Host-csrftoken): the declaration names what the browser holds."""
    return {
        "sessionid": settings.SESSION_COOKIE_NAME,
        "csrftoken": settings.CSRF_COOKIE_NAME,
        "consent": settings.PRIVACY_CONSENT_COOKIE,
    }


def cookie_declaration() -> list[DeclaredGroup]:
    """The cookie groups in order, each with its cookies (two queries)."""
    groups = CookieGroup.objects.order_by("ordering", "varname")
    cookies: dict[int, list[DeclaredCookie]] = {}
    names = _configured_names()
    for cookie in Cookie.objects.select_related("facts").order_by("name", "domain"):
        facts = getattr(cookie, "facts", None)
        cookies.setdefault(cookie.cookiegroup_id, []).append(
            DeclaredCookie(
                name=names.get(cookie.name, cookie.name) if not cookie.domain else cookie.name,
                domain=cookie.domain,
                purpose=cookie.description,
                provider=facts.provider if facts else "",
                lifetime=facts.lifetime if facts else "",
                third_party=facts.third_party if facts else False,
            )
        )
    return [
        DeclaredGroup(
            varname=group.varname,
            name=group.name,
            description=group.description,
            required=group.is_required,
            cookies=tuple(cookies.get(group.pk, ())),
        )
        for group in groups
    ]


def _fingerprint(declaration: list[DeclaredGroup]) -> str:
    lines = []
    for group in declaration:
        # Purposes count: consent given for one purpose is not consent for another.
        lines.append(f"group|{group.varname}|{group.required}|{group.name}|{group.description}")
        for c in group.cookies:
            lines.append(
                f"cookie|{group.varname}|{c.name}|{c.domain}|{c.provider}|{c.lifetime}|{c.purpose}"
            )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


def declaration_version() -> str:
    """A fingerprint of every declared group and cookie: it changes when any of them does,
    and then every visitor is asked again. Cached; privacy.apps clears it on change."""
    version: str | None = cache.get(DECLARATION_CACHE_KEY)
    if version is None:
        version = _fingerprint(cookie_declaration())
        cache.set(DECLARATION_CACHE_KEY, version, CACHE_SECONDS)
    return version


def forget_cached_declaration() -> None:
    cache.delete(DECLARATION_CACHE_KEY)


@dataclass(frozen=True)
class CurrentDocuments:
    privacy: LegalDocument | None
    terms: LegalDocument | None


def current_documents() -> CurrentDocuments:
    """The published version in force of each document (cached; cleared on publish)."""
    documents: CurrentDocuments | None = cache.get(DOCUMENTS_CACHE_KEY)
    if documents is None:
        # One query per kind rather than DISTINCT ON, which SQLite (the embedded default) lacks.
        published = LegalDocument.objects.filter(published_at__isnull=False).order_by("-version")
        documents = CurrentDocuments(
            privacy=published.filter(kind=LegalDocument.Kind.PRIVACY).first(),
            terms=published.filter(kind=LegalDocument.Kind.TERMS).first(),
        )
        cache.set(DOCUMENTS_CACHE_KEY, documents, CACHE_SECONDS)
    return documents


def forget_cached_documents() -> None:
    cache.delete(DOCUMENTS_CACHE_KEY)


def document_versions(*, kind: str) -> QuerySet[LegalDocument]:
    return LegalDocument.objects.filter(kind=kind, published_at__isnull=False).order_by("-version")


def documents_awaiting_acceptance(*, user: User) -> list[LegalDocument]:
    """Current versions published after the customer joined that they have not accepted.

    Versions in force when they signed up were accepted then (or predate the ledger).
    """
    current = current_documents()
    newer = [
        doc
        for doc in (current.privacy, current.terms)
        if doc is not None and doc.published_at is not None and doc.published_at > user.date_joined
    ]
    if not newer:
        return []
    accepted = set(
        DocumentAcceptance.objects.filter(user=user, document__in=newer).values_list(
            "document_id", flat=True
        )
    )
    return [doc for doc in newer if doc.pk not in accepted]


def consent_ledger(*, user: User) -> QuerySet[CookieConsentRecord]:
    return CookieConsentRecord.objects.filter(user=user).select_related("policy")


def document_acceptances(*, user: User) -> QuerySet[DocumentAcceptance]:
    return DocumentAcceptance.objects.filter(user=user).select_related("document")


def session_records(*, user: User) -> QuerySet[SessionRecord]:
    return SessionRecord.objects.filter(user=user)


def data_requests(*, user: User) -> QuerySet[DataRequest]:
    """The customer's GDPR requests, newest first."""
    return DataRequest.objects.filter(user=user).order_by("-created_at", "-pk")


def live_erasure(*, user: User) -> DataRequest | None:
    """The customer's erasure that is scheduled, running or waiting to resume."""
    return DataRequest.objects.filter(
        user=user,
        kind=DataRequest.Kind.ERASURE,
        status__in=[
            DataRequest.Status.SCHEDULED,
            DataRequest.Status.RUNNING,
            DataRequest.Status.FAILED,
        ],
    ).first()
