"""The customer's consents on their admin page (core.staff): cookie choices and the
policy and terms versions they accepted."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.staff import Column, CustomerSection, customer_section

from .models import CookieConsentRecord, DocumentAcceptance


def _cookie_choices(customer: User) -> QuerySet[CookieConsentRecord]:
    return CookieConsentRecord.objects.filter(user=customer).order_by("-pk")


def _acceptances(customer: User) -> QuerySet[DocumentAcceptance]:
    return (
        DocumentAcceptance.objects.filter(user=customer)
        .select_related("document")
        .order_by("-accepted_at")
    )


customer_section(
    CustomerSection(
        key="consents",
        title="Cookie consents",
        order=70,
        rows=_cookie_choices,
        admin_url=lambda r: reverse("admin:privacy_cookieconsentrecord_change", args=[r.pk]),
        columns=[
            Column("Choice", lambda r: r.get_action_display(), link=True),
            Column(
                "Groups accepted",
                lambda r: (
                    ", ".join(name for name, yes in r.answers.items() if yes) or "necessary only"
                ),
            ),
            Column("When", lambda r: f"{timezone.localtime(r.created_at):%d %b %Y %H:%M}"),
        ],
    )
)
customer_section(
    CustomerSection(
        key="acceptances",
        title="Policies and terms accepted",
        order=75,
        rows=_acceptances,
        columns=[
            Column("Document", lambda a: str(a.document)),
            Column("How", lambda a: a.get_source_display()),
            Column("When", lambda a: f"{timezone.localtime(a.accepted_at):%d %b %Y %H:%M}"),
        ],
    )
)
