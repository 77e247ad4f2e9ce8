"""Request guards every page shares."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
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
