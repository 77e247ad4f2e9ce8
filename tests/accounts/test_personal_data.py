from __future__ import annotations

import json

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from accounts import personal_data
from tests.factories import TEST_PASSWORD


def _sign_in(alice) -> Client:
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0", REMOTE_ADDR="203.0.113.7")
    browser.post(reverse("account_login"), {"login": alice.email, "password": TEST_PASSWORD})
    return browser


def test_export_holds_profile_addresses_sessions_and_factor_types(alice):
    _sign_in(alice)
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)

    data = personal_data.export(alice)

    assert data["profile"]["email"] == "alice@example.com"
    assert data["profile"]["full_name"] == "Alice Archer"
    assert data["profile"]["phone"] == "+442079460958"
    assert data["email_addresses"] == [
        {"email": "alice@example.com", "verified": True, "primary": True}
    ]
    assert data["sessions"][0]["ip"] == "203.0.113.7"
    assert data["two_factor_methods"] == ["totp"]
    assert secret not in json.dumps(data)


def test_erase_removes_the_person_and_signs_them_out(alice, bob):
    browser = _sign_in(alice)
    TOTP.activate(alice, generate_totp_secret())

    personal_data.erase(alice)

    alice.refresh_from_db()
    assert alice.full_name == alice.phone == alice.address_line1 == ""
    assert "alice" not in alice.email
    assert not alice.is_active
    assert not alice.has_usable_password()
    assert not EmailAddress.objects.filter(user=alice).exists()
    assert not UserSession.objects.filter(user=alice).exists()
    assert browser.get(reverse("core:dashboard")).status_code == 302
    bob.refresh_from_db()
    assert bob.full_name == "Bob Baker"
