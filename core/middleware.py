"""Request guards every page shares."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from auditlog import get_logentry_model
from auditlog.cid import correlation_id
from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware as AuditlogDefaults
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.db.models.signals import pre_save
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils.cache import patch_cache_control

# TRACE echoes the request (cookies included) back; TRACK is IIS's alias; CONNECT
# asks us to be a proxy. No view of ours answers any of them.
REFUSED_METHODS = frozenset({"TRACE", "TRACK", "CONNECT"})
ALLOWED_METHODS = ["GET", "HEAD", "POST", "OPTIONS"]


class RefuseTraceMiddleware:
    """Answers TRACE, TRACK and CONNECT with 405 before any view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in REFUSED_METHODS:
            return HttpResponseNotAllowed(ALLOWED_METHODS)
        return self.get_response(request)


class PrivatePagesNoStoreMiddleware:
    """Every response to a signed-in customer is `Cache-Control: private, no-store`.

    Invoices, their PDFs, saved cards, the profile: no browser cache or proxy keeps a
    copy for the next person at a shared computer. Anonymous pages are left alone.
    Reads the session's user id (the session is loaded for a signed-in request anyway)
    rather than request.user, so no query is added.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            patch_cache_control(response, private=True, no_store=True)
        return response


class FriendlyMethodNotAllowedMiddleware:
    """Gives a 405 from a view (`require_POST` and friends) a page that says what happened.

    Django answers a GET of a POST-only URL with an empty 405, which browsers show as
    "This page isn't working". The status and the Allow header stay as they were.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content or request.method == "HEAD":
            return response
        page = render(request, "405.html", status=405)
        page["Allow"] = response["Allow"]
        return page


_audited_request: ContextVar[HttpRequest | None] = ContextVar("core_audited_request", default=None)
# auditlog's context while a request of ours decides; set_actor() replaces it.
_OURS = {"signal_duid": ("core-audited-request", 0)}


class AuditlogMiddleware:
    """django-auditlog's middleware, paid for only by a request that writes an entry.

    auditlog's own connects a pre_save receiver for its LogEntry on every request and
    disconnects it afterwards, reads the correlation header through request.headers and
    loads request.user up front: 0.30 M instructions of an anonymous bare view, 0.20 M
    signed in (benchmarks.profile --without). Here one receiver is connected once and a
    request only sets a context variable; the actor (request.user), address and port
    are read when an entry is saved, as auditlog's receiver sets them. Inside
    auditlog's own set_actor() its receiver decides, as it did before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        pre_save.connect(
            _fill_entry, sender=get_logentry_model(), dispatch_uid="core-audited-request"
        )
        # auditlog.conf gives both settings their defaults; django-stubs does not know them.
        header = getattr(settings, "AUDITLOG_CID_HEADER", "")
        self._correlation_meta = "HTTP_" + header.upper().replace("-", "_") if header else ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not getattr(settings, "AUDITLOG_CID_GETTER", None):
            correlation_id.set(request.META.get(self._correlation_meta))
        token, context = _audited_request.set(request), auditlog_value.set(_OURS)
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(context)
            _audited_request.reset(token)


def _fill_entry(sender: type[Any], instance: Any, **kwargs: object) -> None:
    request = _audited_request.get()
    if request is None or auditlog_value.get(None) is not _OURS:
        return
    actor = getattr(request, "user", None)
    if instance.actor is None and isinstance(actor, get_user_model()) and actor.is_authenticated:
        instance.actor = actor
        instance.actor_email = getattr(actor, "email", None)
    instance.remote_addr = AuditlogDefaults._get_remote_addr(request)
    instance.remote_port = AuditlogDefaults._get_remote_port(request)
