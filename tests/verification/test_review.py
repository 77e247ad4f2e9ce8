"""The staff review queue and page in the admin."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.verification import files
from tests.verification.factories import CaseFactory
from verification.models import Case, CaseStatus
from verification.services import document_read, documents_submit
from verification.uploads import clean_upload


def test_the_queue_lists_cases_under_review_oldest_first_with_the_waiting_time(client, charlie):
    now = timezone.now()
    for hours, name in ((2, "Second Waiting"), (30, "First Waiting"), (1, "Third Waiting")):
        CaseFactory(
            user=UserFactory(full_name=name),
            status=CaseStatus.UNDER_REVIEW,
            submitted_at=now - dt.timedelta(hours=hours),
        )
    CaseFactory(user=UserFactory(full_name="Not Sent Yet"))
    client.force_login(charlie)
    url = reverse("admin:verification_reviewcase_changelist")
    client.get(url)  # the first view reads the staff member afresh
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).text
    for _ in range(5):
        CaseFactory(status=CaseStatus.UNDER_REVIEW, submitted_at=now)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries) <= 10
    positions = [page.index(name) for name in ("First Waiting", "Second Waiting", "Third Waiting")]
    assert positions == sorted(positions)
    assert "Not Sent Yet" not in page
    assert "1\xa0day, 6\xa0hours" in page


def test_the_review_page_shows_what_staff_compare(client, charlie):
    customer = UserFactory(
        full_name="Dana Doe", address_line1="1 High Street", city="London", postcode="NW1 6XE"
    )
    case = CaseFactory(
        user=customer,
        status=CaseStatus.UNDER_REVIEW,
        card_brand="visa",
        card_last4="0341",
        card_country="US",
        billing_country="GB",
        ip_country="FR",
        ip_address="203.0.113.7",
    )
    client.force_login(charlie)
    page = client.get(reverse("admin:verification_reviewcase_change", args=[case.pk])).text
    for text in (
        "Dana Doe",
        "1 High Street",
        "NW1 6XE London",
        "United Kingdom",
        "Visa •••• 0341",
        "card US · billing GB · IP FR (203.0.113.7)",
        "A picture is unreadable or blurred",  # the reason list
        "Note to the customer",
    ):
        assert text in page, text


def test_a_rejection_needs_a_reason_from_the_list(client, charlie, alice_case):
    Case.objects.filter(pk=alice_case.pk).update(status=CaseStatus.UNDER_REVIEW)
    client.force_login(charlie)
    url = reverse("admin:verification_reviewcase_change", args=[alice_case.pk])
    response = client.post(url, {"reject": "1", "reason": "made-up", "note": ""})
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    response = client.post(url, {"reject": "1", "reason": "other", "note": ""})
    assert "Say what the other reason is." in response.text
    alice_case.refresh_from_db()
    assert alice_case.status == CaseStatus.UNDER_REVIEW
    client.post(url, {"reject": "1", "reason": "name_mismatch", "note": "Card says A. Smith."})
    alice_case.refresh_from_db()
    assert alice_case.status == CaseStatus.REJECTED
    assert alice_case.rejection_text == (
        "The name on the card and on the ID differ: Card says A. Smith."
    )


def test_any_django_storage_works_by_settings_alone(settings, alice_case):
    settings.STORAGES = {
        **settings.STORAGES,
        "verification": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    case = documents_submit(
        case=alice_case,
        card_picture=clean_upload(files.upload("c.png", files.png(), "image/png")),
        identity_picture=clean_upload(files.upload("i.pdf", files.pdf())),
    )
    identity = case.documents.get(kind="identity")
    assert document_read(document=identity).startswith(b"%PDF-")
