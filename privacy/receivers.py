"""Signal receivers: thin adapters from allauth and Django signals to services."""

from __future__ import annotations

from django.http import HttpRequest

from accounts.models import User
from core.consent import ConsentRequest

from . import notice, services
from .client import client_ip
from .consent import forget_cached_cookie_groups
from .models import DocumentAcceptance
from .selectors import forget_cached_declaration


def record_signup_acceptance(
    sender: object, request: HttpRequest, user: User, **kwargs: object
) -> None:
    # The sign-up form refuses to submit without the "I accept" box ticked.
    services.documents_accept_current(
        user=user, source=DocumentAcceptance.Source.SIGNUP, ip=client_ip(request)
    )


def record_session(
    sender: object, request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    if request is None or not hasattr(request, "session"):
        return
    # Whether to show the new-version notice is settled at sign-in, not on every page.
    notice.refresh(request, user)
    if not request.session.session_key:
        return
    services.session_record_create(
        user=user,
        session_key=request.session.session_key,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        secure=request.is_secure(),
        protocol=request.META.get("SERVER_PROTOCOL", ""),
    )


def new_visitor_after_logout(
    sender: object, request: ConsentRequest | None, user: User, **kwargs: object
) -> None:
    # The middleware gives the browser a fresh visitor id with the same choice, so the
    # next person at a shared computer is not linked to this customer in the ledger.
    if request is not None:
        request.consent_new_visitor = True


def declaration_changed(sender: object, **kwargs: object) -> None:
    # Any change to the declared cookies gives a new declaration version: every visitor
    # is asked again on their next page.
    forget_cached_declaration()
    forget_cached_cookie_groups()
