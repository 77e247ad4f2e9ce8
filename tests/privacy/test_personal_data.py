from __future__ import annotations

import pytest
from django.urls import reverse

from privacy import personal_data
from privacy.models import CookieConsentRecord, DocumentAcceptance, SessionRecord
from privacy.services import documents_accept_current, session_record_create


@pytest.mark.django_db
def test_export_holds_the_customers_consents_acceptances_and_sessions_only(
    alice_client, alice, bob
):
    alice_client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    documents_accept_current(user=alice, source="signup", ip="203.0.113.1")
    documents_accept_current(user=bob, source="signup", ip="203.0.113.2")

    data = personal_data.export(alice)

    assert [r["action"] for r in data["consent_records"]] == ["accept_all"]
    assert {(a["document"], a["ip"]) for a in data["document_acceptances"]} == {
        ("privacy", "203.0.113.1"),
        ("terms", "203.0.113.1"),
    }
    assert len(data["sessions"]) == 1  # alice_client's force_login


@pytest.mark.django_db
def test_erase_removes_the_customers_data_and_keeps_anonymous_consent_proof(
    alice_client, alice, bob
):
    alice_client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    documents_accept_current(user=alice, source="signup", ip="203.0.113.1")
    documents_accept_current(user=bob, source="signup", ip="203.0.113.2")
    session_record_create(
        user=bob, session_key="k", ip=None, user_agent="", secure=True, protocol="HTTP/2"
    )

    personal_data.erase(alice)

    record = CookieConsentRecord.objects.get()
    assert record.user is None and record.ip is None
    assert not DocumentAcceptance.objects.filter(user=alice).exists()
    assert not SessionRecord.objects.filter(user=alice).exists()
    assert DocumentAcceptance.objects.filter(user=bob).count() == 2
    assert SessionRecord.objects.filter(user=bob).count() == 1
    assert personal_data.export(alice) == {
        "consent_records": [],
        "document_acceptances": [],
        "sessions": [],
    }
