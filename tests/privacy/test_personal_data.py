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
        "data_requests": [],
    }


def test_every_privacy_model_that_points_at_a_customer_is_covered():
    from django.apps import apps
    from django.conf import settings

    with_user = {
        model.__name__
        for model in apps.get_app_config("privacy").get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and field.many_to_one
        and field.related_model._meta.label == settings.AUTH_USER_MODEL
    }

    # Adding a model here means adding it to privacy/personal_data.py and the tests above.
    assert with_user == {
        "CookieConsentRecord",
        "DataRequest",
        "DocumentAcceptance",
        "SessionRecord",
    }


@pytest.mark.django_db
def test_export_says_which_groups_a_withdrawal_withdrew(alice_client, alice):
    alice_client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    alice_client.post(reverse("privacy:withdraw"), {"group": "advertising"})

    records = personal_data.export(alice)["consent_records"]

    assert [(r["action"], r["withdrawn"]) for r in records] == [
        ("withdraw", ["advertising"]),
        ("accept_all", []),
    ]
