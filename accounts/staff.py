"""The customer's own sign-in sessions on their admin page (core.staff)."""

from __future__ import annotations

from typing import cast

from allauth.usersessions.models import UserSession
from django.db.models import QuerySet
from django.utils import timezone

from core.staff import Column, CustomerSection, customer_section

from .models import User
from .useragent import describe


def _browser(user_agent: str) -> str:
    client = describe(user_agent)
    return f"{client.browser} on {client.os}"


def _sessions(customer: User) -> QuerySet[UserSession]:
    # allauth ships no type information: its manager reads as Any.
    return cast("QuerySet[UserSession]", UserSession.objects.filter(user=customer)).order_by(
        "-last_seen_at"
    )


customer_section(
    CustomerSection(
        key="sessions",
        title="Sessions",
        order=80,
        rows=_sessions,
        columns=[
            Column(
                "Browser",
                lambda s: f"{describe(s.user_agent).browser} on {describe(s.user_agent).os}",
            ),
            Column("IP", lambda s: s.ip),
            Column("Signed in", lambda s: f"{timezone.localtime(s.created_at):%d %b %Y %H:%M}"),
            Column("Last seen", lambda s: f"{timezone.localtime(s.last_seen_at):%d %b %Y %H:%M}"),
        ],
    )
)
