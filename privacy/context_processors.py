from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from accounts.models import User
from core.consent import ADVERTISING, PERFORMANCE, consent_state

from . import notice
from .consent import measurement_allowed


def privacy(request: HttpRequest) -> dict[str, object]:
    """The banner, the measurement scripts and the new-version notice for base.html."""
    state = consent_state(request)
    user = getattr(request, "user", None)
    customer = user if isinstance(user, User) else None
    advertising = measurement_allowed(request, ADVERTISING)
    return {
        "consent": state,
        "consent_banner": not state.chosen and request.path != reverse("privacy:cookies"),
        "measure_performance": measurement_allowed(request, PERFORMANCE),
        "measure_advertising": advertising,
        "google_tag_id": settings.GOOGLE_TAG_ID if advertising else "",
        "policy_notice": SimpleLazyObject(
            lambda: notice.pending(request, customer) if customer is not None else []
        ),
    }
