from __future__ import annotations

import pytest
from cookie_consent.models import Cookie
from django.urls import reverse

from privacy.services import session_record_create


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "admin:privacy_cookieconsentrecord_changelist",
        "admin:privacy_documentacceptance_changelist",
        "admin:privacy_sessionrecord_changelist",
        "admin:privacy_pagevisit_changelist",
        "admin:privacy_legaldocument_changelist",
        "admin:privacy_legaldocument_add",
        "admin:cookie_consent_cookie_changelist",
        "admin:cookie_consent_cookiegroup_changelist",
    ],
)
def test_staff_open_every_privacy_admin_page(client, charlie, alice, name):
    client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    session_record_create(
        user=alice, session_key="k", ip="192.0.2.1", user_agent="", secure=True, protocol="HTTP/2"
    )
    client.force_login(charlie)

    assert client.get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_staff_edit_a_cookies_provider_and_lifetime_next_to_the_packages_fields(client, charlie):
    cookie = Cookie.objects.get(name="_ga")
    client.force_login(charlie)

    html = client.get(reverse("admin:cookie_consent_cookie_change", args=[cookie.pk])).content
    html = html.decode()

    assert 'name="facts-0-provider"' in html and 'value="Google"' in html
    assert 'name="facts-0-lifetime"' in html


@pytest.mark.django_db
def test_the_ledger_cannot_be_edited_in_admin(client, charlie):
    client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    client.force_login(charlie)

    assert client.get(reverse("admin:privacy_cookieconsentrecord_add")).status_code == 403


@pytest.mark.django_db
def test_a_new_version_in_admin_starts_from_the_latest_one(client, charlie):
    client.force_login(charlie)

    html = client.get(reverse("admin:privacy_legaldocument_add") + "?kind=terms").content
    html = html.decode()

    assert 'name="version" value="2"' in html
    assert "These terms govern your use" in html
