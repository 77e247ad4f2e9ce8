"""The one safe-next helper: a `next` is followed only when it is a path on this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_path(request: HttpRequest, candidate: str | None) -> str:
    """`candidate` when it is a path on this site, else ''.

    Only a path (one leading slash) is followed: a bare word such as `NaN` handed to
    redirect() is looked up as a URL name and raised NoReverseMatch (a 500), and an
    absolute or scheme-relative URL would be an open redirect.
    """
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return ""


def redirect_to_next(
    request: HttpRequest, candidate: str | None, fallback: str
) -> HttpResponseRedirect:
    """A redirect to a safe `candidate`, else to the URL named `fallback`."""
    return HttpResponseRedirect(safe_next_path(request, candidate) or reverse(fallback))
