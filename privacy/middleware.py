"""Server-side enforcement of the visitor's cookie choice.

On the way in, the consent cookie becomes `request.consent` (read by
core.consent.has_consent). On the way out, a cookie of a group the visitor has
not accepted, or of no declared group at all, is dropped from the response, one
the browser still holds is expired, and the Google tag's origins enter the
Content-Security-Policy only when the advertising group is accepted and a tag id
is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP

from core.consent import ADVERTISING, NECESSARY, ConsentRequest, consent_state

from . import consent
from .selectors import declaration_version

logger = logging.getLogger(__name__)

GOOGLE_TAG_CSP = {
    "script-src": ["https://*.googletagmanager.com"],
    "img-src": ["https://*.google-analytics.com", "https://*.googletagmanager.com"],
    "connect-src": [
        "https://*.google-analytics.com",
        "https://*.analytics.google.com",
        "https://*.googletagmanager.com",
    ],
}


def _always_necessary() -> set[str]:
    # Known necessary cookies skip the declaration lookup on every response.
    return {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.PRIVACY_CONSENT_COOKIE,
        "messages",
    }


def google_tag_csp(config: dict[str, list[str]]) -> dict[str, list[str]]:
    extended = {key: list(value) for key, value in config.items()}
    for directive, sources in GOOGLE_TAG_CSP.items():
        base = extended.get(directive) or list(config.get("default-src", [CSP.SELF]))
        extended[directive] = [*base, *[s for s in sources if s not in base]]
    return extended


class ConsentMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: ConsentRequest) -> HttpResponseBase:
        request.consent = consent.read(request)
        response = self.get_response(request)
        # A view that records a new choice replaces request.consent before answering.
        state = consent_state(request)
        necessary = _always_necessary()
        for name in [n for n in response.cookies if n not in necessary]:
            if response.cookies[name]["max-age"] == 0:
                continue  # an expiry, not a new cookie
            group = consent.group_of(name)
            if group is None:
                # Fail closed: a cookie nobody declared has no group a visitor could refuse.
                logger.warning("Dropped the cookie %r: it is not in the cookie declaration.", name)
                del response.cookies[name]
            elif group != NECESSARY and not state.allows(group):
                del response.cookies[name]
        for name in request.COOKIES:
            if name in necessary or name in response.cookies:
                continue
            group = consent.group_of(name)
            if group and group != NECESSARY and not state.allows(group):
                response.delete_cookie(name)
        cookie = settings.PRIVACY_CONSENT_COOKIE
        if getattr(request, "consent_new_visitor", False) and state.chosen:
            if cookie not in response.cookies:
                fresh = replace(state, visitor_id=consent.new_visitor_id())
                consent.write(
                    response, state=fresh, version=declaration_version(), at=state.chosen_at
                )
        # Pages differ with the consent cookie (banner, scripts): shared caches must know.
        patch_vary_headers(response, ("Cookie",))
        if settings.GOOGLE_TAG_ID and consent.measurement_allowed(request, ADVERTISING):
            config = getattr(response, "_csp_config", None) or settings.SECURE_CSP
            if config:
                # Django's per-response policy (as csp_override sets it); undeclared in its stubs.
                response._csp_config = google_tag_csp(config)  # type: ignore[attr-defined]
        return response
