"""The customer's addresses (postal and email) and own sign-in sessions on their admin
page (core.staff)."""

from __future__ import annotations

from typing import Any, cast

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.db.models import CharField, F, IntegerField, QuerySet, Value
from django.urls import reverse
from django.utils import timezone
from django_countries import countries

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


_POSTAL = ("address_line1", "address_line2", "postcode", "city", "region", "country")
_COLUMNS = ("pk", "rank", "address", "is_primary", "is_verified", *_POSTAL)


def _addresses(customer: User) -> QuerySet[Any]:
    """The postal address first, then the email addresses (primary first), as one
    queryset (a UNION), so its page costs one query and its count another."""
    blank = {field: Value("", output_field=CharField()) for field in _POSTAL}
    postal = (
        User.objects.filter(pk=customer.pk)
        .exclude(address_line1="", city="", postcode="")
        .annotate(
            rank=Value(0, output_field=IntegerField()),
            address=Value("", output_field=CharField()),
            is_primary=Value(True),
            is_verified=Value(False),
        )
        .values_list("pk", "rank", "address", "is_primary", "is_verified", *_POSTAL)
    )
    emails = (
        cast("QuerySet[EmailAddress]", EmailAddress.objects.filter(user=customer))
        .annotate(
            rank=Value(1, output_field=IntegerField()),
            address=F("email"),
            is_primary=F("primary"),
            is_verified=F("verified"),
            **{f"blank_{field}": value for field, value in blank.items()},
        )
        .values_list(
            "pk",
            "rank",
            "address",
            "is_primary",
            "is_verified",
            *(f"blank_{field}" for field in _POSTAL),
        )
    )
    return postal.union(emails, all=True).order_by("rank", "-is_primary", "address", "pk")


def _address_text(row: tuple[Any, ...]) -> str:
    values = dict(zip(_COLUMNS, row, strict=True))
    if values["rank"]:
        return str(values["address"])
    city = " ".join(part for part in (values["postcode"], values["city"]) if part)
    country = countries.name(values["country"]) if values["country"] else ""
    parts = (values["address_line1"], values["address_line2"], city, values["region"], country)
    return ", ".join(str(part) for part in parts if part)


def _address_url(row: tuple[Any, ...]) -> str:
    if row[1]:
        return reverse("admin:account_emailaddress_change", args=[row[0]])
    return reverse("admin:accounts_user_change", args=[row[0]]) + "#id_address_line1"


customer_section(
    CustomerSection(
        key="addresses",
        title="Addresses",
        order=15,
        rows=_addresses,
        admin_url=_address_url,
        columns=[
            Column("Kind", lambda row: "Email" if row[1] else "Postal (mailing)"),
            Column("Address", _address_text, link=True),
            Column("Primary", lambda row: "yes" if row[3] else "-"),
            Column("Verified", lambda row: "yes" if row[4] else ("-" if row[1] else "n/a")),
        ],
    )
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
