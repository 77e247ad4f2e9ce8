"""Privacy requests by ticket: types, the GDPR art. 12 one-month deadline, overdue ones
standing out, and an accepted restriction stopping marketing, suggestions and measurement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.selectors import recommended_products
from notifications.services import notify, preferences_update
from privacy.models import PageTiming
from support import services
from support.models import PrivacyDecision, RestrictionRecord, Ticket

pytestmark = pytest.mark.django_db
TIMING = {"kind": "timing", "path": "/plans/", "ttfb": 42, "dom_ready": 180, "load": 350}


@pytest.fixture
def restriction_request(alice, privacy_department) -> Ticket:
    return services.ticket_open(
        user=alice,
        department=privacy_department,
        subject="Please restrict",
        body="Stop using my data while you check my address.",
        request_type="restrict",
    )


def decide(client, ticket, action):
    return client.post(
        reverse("admin:support_ticket_changelist"),
        {"action": action, "_selected_action": [ticket.pk]},
        follow=True,
    )


@pytest.mark.parametrize("kind", ["correct", "update", "restrict", "object"])
def test_the_opening_url_preselects_privacy_and_the_request_type(alice_client, kind):
    from support.models import Department

    response = alice_client.get(reverse("support:ticket_open"), {"type": kind})
    form = response.context["form"]
    assert form.initial["department"] == Department.objects.get(slug="privacy")
    assert form.initial["request_type"] == kind
    assert f'<option value="{kind}" selected>' in response.content.decode()


def test_an_unknown_type_preselects_nothing(alice_client):
    response = alice_client.get(reverse("support:ticket_open"), {"type": "delete-everything"})
    assert "department" not in response.context["form"].initial


def test_a_request_from_the_form_starts_the_one_month_clock(
    alice_client, alice, privacy_department
):
    alice_client.post(
        reverse("support:ticket_open"),
        {
            "department": privacy_department.pk,
            "request_type": "correct",
            "subject": "Wrong postcode",
            "priority": "normal",
            "body": "My postcode is NW1 6XE.",
        },
    )
    ticket = Ticket.objects.get(user=alice)
    assert ticket.request_type == "correct"
    assert ticket.request_due_at == ticket.created_at + relativedelta(months=1)
    page = alice_client.get(reverse("support:ticket", args=[ticket.pk])).content.decode()
    assert "answer due by" in page


def test_a_request_type_outside_the_privacy_department_is_a_form_error(
    alice_client, support_department
):
    response = alice_client.post(
        reverse("support:ticket_open"),
        {
            "department": support_department.pk,
            "request_type": "object",
            "subject": "s",
            "priority": "normal",
            "body": "b",
        },
    )
    assert response.status_code == 400
    assert "Privacy requests go to the Privacy department" in response.content.decode()
    assert not Ticket.objects.exists()


def test_overdue_requests_stand_out_for_staff(client, charlie, restriction_request, alice):
    on_time = services.ticket_open(
        user=alice,
        department=restriction_request.department,
        subject="Correct my name",
        body="b",
        request_type="correct",
    )
    Ticket.objects.filter(pk=restriction_request.pk).update(
        request_due_at=timezone.now() - timedelta(days=2)
    )
    client.force_login(charlie)
    changelist = reverse("admin:support_ticket_changelist")
    page = client.get(changelist).content.decode()
    assert "OVERDUE since" in page
    overdue = client.get(changelist, {"queue": "overdue"}).content.decode()
    assert "Please restrict" in overdue and "Correct my name" not in overdue
    on_time.refresh_from_db()
    assert not on_time.request_overdue


def test_accepting_a_restriction_stops_marketing_suggestions_and_measurement(
    client, charlie, alice, restriction_request
):
    preferences_update(
        user=alice, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )
    assert notify(user=alice, kind="welcome", context={}, category="marketing")
    # Alice is signed in and measured (her browser accepted every cookie group).
    from django.test import Client

    browser = Client()
    browser.force_login(alice)
    browser.post(reverse("privacy:consent"), {"choice": "accept_all"})
    assert "privacy/measure.js" in browser.get(reverse("core:dashboard")).content.decode()

    client.force_login(charlie)
    response = decide(client, restriction_request, "accept_privacy_request")
    assert "1 privacy request(s) accepted." in response.content.decode()

    alice.refresh_from_db()
    assert alice.processing_restricted_at is not None
    record = RestrictionRecord.objects.get(user=alice)
    assert (record.action, record.staff, record.ticket) == ("set", charlie, restriction_request)
    restriction_request.refresh_from_db()
    assert restriction_request.request_decision == PrivacyDecision.ACCEPTED
    assert restriction_request.request_decided_by == charlie

    # Marketing, "Recommended for you" and measurements all stop.
    assert notify(user=alice, kind="welcome", context={}, category="marketing") == []
    assert recommended_products(user=alice, currency="EUR") == []
    # Her next page is not measured: the signed-in copy of her account was refreshed.
    html = browser.get(reverse("core:dashboard")).content.decode()
    assert "privacy/measure.js" not in html
    assert browser.post(reverse("privacy:beacon"), TIMING).status_code == 403
    assert not PageTiming.objects.exists()


def test_lifting_the_restriction_is_recorded_and_marketing_resumes(
    client, charlie, alice, restriction_request
):
    preferences_update(
        user=alice, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )
    client.force_login(charlie)
    decide(client, restriction_request, "accept_privacy_request")
    decide(client, restriction_request, "lift_restriction")

    alice.refresh_from_db()
    assert alice.processing_restricted_at is None
    assert list(
        RestrictionRecord.objects.order_by("recorded_at").values_list("action", flat=True)
    ) == [
        "set",
        "lifted",
    ]
    assert notify(user=alice, kind="welcome", context={}, category="marketing")


def test_a_declined_restriction_changes_nothing_and_a_request_is_decided_once(
    client, charlie, alice, restriction_request
):
    client.force_login(charlie)
    decide(client, restriction_request, "decline_privacy_request")
    response = decide(client, restriction_request, "accept_privacy_request")
    assert "This request has already been decided." in response.content.decode()
    assert User.objects.get(pk=alice.pk).processing_restricted_at is None
    assert not RestrictionRecord.objects.exists()
