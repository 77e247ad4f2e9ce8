"""The one place billing tells a customer something: through notifications' outbox.

notify() renders the kind's templates (billing/templates/notifications/email/<kind>-*)
now, writes the rows in the caller's transaction and hands them to a worker on commit.
Contexts hold plain strings only, so they can be stored and re-rendered.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from accounts.models import User
from notifications.services import notify


def tell_customer(
    *,
    user: User | None,
    kind: str,
    context: dict[str, Any],
    body_secret: bool = False,
    secrets: dict[str, str] | None = None,
) -> None:
    """Queues the transactional email `kind` to `user` (nobody when the user is gone).
    A `body_secret` message loses its body once sent; `secrets` (a first password)
    are never in the outbox row's text: kept encrypted, merged in as it is sent, then
    wiped (notifications.secrets)."""
    if user is None or not user.is_active or not user.email:
        return
    notify(
        user=user,
        kind=kind,
        context=context,
        category="transactional",
        body_secret=body_secret,
        secrets=secrets,
    )


def tell_staff(*, kind: str, context: dict[str, Any]) -> None:
    """Queues the transactional email `kind` to every active staff user with an address."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    for user in staff.order_by("pk"):
        notify(user=user, kind=kind, context=context, category="transactional")
