"""What the visitor agreed to, for every app to ask.

The cookie groups of the privacy policy: "necessary" cannot be refused; the other
three are off until the visitor turns them on. privacy/ (the top floor) reads the
consent cookie, checks it against the current cookie declaration and attaches a
ConsentState to each request; lower floors only ask `has_consent(request, group)`
and never import privacy.

    from core.consent import has_consent

    if has_consent(request, "functional"):
        response.set_cookie("currency", "EUR", ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest

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

    def allows(self, group: str) -> bool:
        if group not in GROUPS:
            raise ValueError(f"Unknown cookie group {group!r}; expected one of {GROUPS}.")
        return group == NECESSARY or group in self.accepted


NO_CHOICE = ConsentState()


def consent_state(request: HttpRequest) -> ConsentState:
    """The request's consent; a request privacy's middleware has not seen allows nothing."""
    return getattr(request, "consent", NO_CHOICE)


def has_consent(request: HttpRequest, group: str) -> bool:
    """True when the visitor consented to `group` ("necessary" is always True)."""
    return consent_state(request).allows(group)
