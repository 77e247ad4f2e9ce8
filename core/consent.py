"""What the visitor agreed to, for every app to ask.

The cookie groups of the privacy policy: "necessary" cannot be refused; the other
three are off until the visitor turns them on. privacy/ (the top floor) reads the
consent cookie, checks it against the current cookie declaration and attaches a
ConsentState to each request; lower floors only ask `has_consent(request, group)`
and never import privacy.

    from core.consent import has_consent

    if has_consent(request, "functional"):
        ...

For a preference such as the currency, `remember_preference` and `preference` do the
right thing: the session always keeps it, a cookie only with functional consent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

NECESSARY = "necessary"
FUNCTIONAL = "functional"
PERFORMANCE = "performance"
ADVERTISING = "advertising"
OPTIONAL_GROUPS: tuple[str, ...] = (FUNCTIONAL, PERFORMANCE, ADVERTISING)
GROUPS: tuple[str, ...] = (NECESSARY, *OPTIONAL_GROUPS)


@dataclass(frozen=True)
class ConsentState:
    """One browser's standing choice; `chosen` is False until the visitor answers."""

    chosen: bool = False
    accepted: frozenset[str] = field(default_factory=frozenset)
    visitor_id: str = ""
    # When the visitor chose (ms since the epoch); 0 without a choice.
    chosen_at: int = 0

    def allows(self, group: str) -> bool:
        if group not in GROUPS:
            raise ValueError(f"Unknown cookie group {group!r}; expected one of {GROUPS}.")
        return group == NECESSARY or group in self.accepted


NO_CHOICE = ConsentState()


class ConsentRequest(HttpRequest):
    """A request privacy's ConsentMiddleware has seen (every request the site serves).

    Views that record a new choice replace `consent` before answering; the middleware
    reads it again on the way out.
    """

    consent: ConsentState
    # Set on sign-out: the middleware then gives the browser a new visitor id.
    consent_new_visitor: bool


def consent_state(request: HttpRequest) -> ConsentState:
    """The request's consent; a request privacy's middleware has not seen allows nothing."""
    state = getattr(request, "consent", NO_CHOICE)
    return state if isinstance(state, ConsentState) else NO_CHOICE


def has_consent(request: HttpRequest, group: str) -> bool:
    """True when the visitor consented to `group` ("necessary" is always True)."""
    return consent_state(request).allows(group)


PREFERENCE_MAX_AGE = 365 * 24 * 60 * 60


def remember_preference(
    request: HttpRequest, response: HttpResponseBase, *, name: str, value: str
) -> None:
    """Keeps a visitor preference (e.g. the currency): always in the session, and in a
    lasting cookie only with functional consent. `name` must be a declared functional
    cookie; without consent a cookie of that name the browser still holds is removed."""
    if hasattr(request, "session"):
        request.session[f"preference:{name}"] = value
    if has_consent(request, FUNCTIONAL):
        response.set_cookie(
            name,
            value,
            max_age=PREFERENCE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    elif name in request.COOKIES:
        response.delete_cookie(name)


def preference(request: HttpRequest, name: str, default: str | None = None) -> str | None:
    """A preference from the session, else from its cookie when functional consent allows."""
    session = getattr(request, "session", None)
    if session is not None and f"preference:{name}" in session:
        value: str = session[f"preference:{name}"]
        return value
    if has_consent(request, FUNCTIONAL) and name in request.COOKIES:
        return request.COOKIES[name]
    return default
