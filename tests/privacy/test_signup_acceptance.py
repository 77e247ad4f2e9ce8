from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from privacy.models import DocumentAcceptance, LegalDocument
from tests.helpers import SIGNUP


@pytest.mark.django_db
def test_sign_up_needs_the_accept_box_ticked(client):
    data = {k: v for k, v in SIGNUP.items() if k != "accept_terms"}

    response = client.post(reverse("account_signup"), data)

    assert response.status_code == 200
    assert "You need to accept the terms and the privacy policy." in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_sign_up_page_links_to_the_terms_and_the_policy(client):
    html = client.get(reverse("account_signup")).content.decode()

    assert 'href="/terms/"' in html and 'href="/privacy/"' in html
    assert '<label for="id_accept_terms">' in html


@pytest.mark.django_db
def test_sign_up_records_acceptance_of_the_current_versions_with_time_and_ip(client):
    client.post(reverse("account_signup"), SIGNUP, REMOTE_ADDR="203.0.113.9")

    user = User.objects.get(email=SIGNUP["email"])
    acceptances = DocumentAcceptance.objects.filter(user=user).select_related("document")
    assert {(a.document.kind, a.document.version) for a in acceptances} == {
        (LegalDocument.Kind.PRIVACY, 1),
        (LegalDocument.Kind.TERMS, 1),
    }
    for acceptance in acceptances:
        assert acceptance.source == "signup"
        assert acceptance.ip == "203.0.113.9"
