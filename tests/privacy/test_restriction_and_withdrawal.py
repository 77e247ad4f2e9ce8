"""Account > Privacy tells the customer when processing of their data is restricted, and
where to withdraw the consent they gave to marketing."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from support.models import Department, PrivacyRequestType, Ticket
from support.services import privacy_request_decide

pytestmark = pytest.mark.django_db


def test_an_accepted_restriction_is_shown_in_force_with_its_date(alice_client, alice, charlie):
    ticket = Ticket.objects.create(
        user=alice,
        department=Department.objects.get(slug="privacy"),
        subject="Restrict",
        request_type=PrivacyRequestType.RESTRICT,
        request_due_at=datetime.datetime(2027, 1, 15, tzinfo=datetime.UTC),
    )
    page = alice_client.get(reverse("privacy:index")).content.decode()
    assert "Processing of your personal information is restricted" not in page

    privacy_request_decide(ticket=ticket, staff=charlie, decision="accepted")
    alice.refresh_from_db()
    page = alice_client.get(reverse("privacy:index")).content.decode()

    assert "Processing of your personal information is restricted since" in page
    assert alice.processing_restricted_at.strftime("%-d %b %Y") in page
    assert "no marketing, no suggestions and no measurements" in page
    assert "Restrict processing of my personal information</a>: Open, accepted" in page


def test_the_privacy_page_says_where_marketing_consent_is_withdrawn(alice_client):
    page = alice_client.get(reverse("privacy:index")).content.decode()

    section = re.search(r'<h2 id="marketing-title">.*?</section>', page, re.S)
    assert section is not None  # the menu links the settings too: look in the section
    assert "withdraw or give that consent at any time" in section[0]
    assert f'href="{reverse("notifications:preferences")}"' in section[0]
