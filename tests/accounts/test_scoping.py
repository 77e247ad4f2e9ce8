"""A second customer reaches none of the first one's account data."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

ALICE_BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1"


def _sign_in(client: Client, email: str, user_agent: str, ip: str) -> None:
    response = client.post(
        reverse("account_login"),
        {"login": email, "password": "correct-horse-battery-staple"},
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 302


def test_bob_sees_only_his_own_profile_and_sessions(alice, bob):
    alice_browser, bob_browser = Client(), Client()
    _sign_in(alice_browser, alice.email, ALICE_BROWSER, "203.0.113.7")
    _sign_in(
        bob_browser, bob.email, "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "198.51.100.9"
    )

    for name in ("core:dashboard", "accounts:index", "accounts:profile", "usersessions_list"):
        html = bob_browser.get(reverse(name), REMOTE_ADDR="198.51.100.9").content.decode()
        assert alice.full_name not in html, name
        assert alice.email not in html, name
        assert "203.0.113.7" not in html, name
        assert "Safari" not in html, name


def test_bob_cannot_sign_out_alices_sessions(alice, bob):
    alice_browser, bob_browser = Client(), Client()
    _sign_in(alice_browser, alice.email, ALICE_BROWSER, "203.0.113.7")
    _sign_in(bob_browser, bob.email, "Mozilla/5.0 Firefox/140.0", "198.51.100.9")

    bob_browser.post(reverse("usersessions_list"))

    assert UserSession.objects.filter(user=alice).count() == 1
    assert alice_browser.get(reverse("core:dashboard")).status_code == 200


def test_bob_cannot_act_on_alices_email_address(alice, bob, client):
    client.force_login(bob)

    for action in ("action_remove", "action_primary", "action_send"):
        response = client.post(reverse("account_email"), {action: "", "email": alice.email})
        assert response.status_code in (200, 302)

    address = EmailAddress.objects.get(email=alice.email)
    assert address.user == alice
    assert address.primary


def test_a_made_up_confirmation_key_verifies_nothing(alice, bob, client):
    EmailAddress.objects.filter(user=alice).update(verified=False)
    client.force_login(bob)

    response = client.post(reverse("account_confirm_email", args=["not-a-real-key"]))

    assert response.status_code in (200, 404)
    assert not EmailAddress.objects.get(email=alice.email).verified
