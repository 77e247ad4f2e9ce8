"""A new phone number (where SMS alerts go) is saved only after a fresh password check."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import TEST_PASSWORD
from tests.helpers import PROFILE


def test_changing_the_phone_asks_for_the_password_first(alice_client, alice):
    response = alice_client.post(reverse("accounts:profile"), PROFILE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    alice.refresh_from_db()
    assert str(alice.phone) == "+442079460958"

    done = alice_client.post(response["Location"], {"password": TEST_PASSWORD}, follow=True)

    assert "Your profile has been saved." in done.text
    alice.refresh_from_db()
    assert str(alice.phone) == "+33142685300"
    assert alice.city == "Paris"


def test_a_wrong_password_leaves_the_phone_as_it_was(alice_client, alice):
    response = alice_client.post(reverse("accounts:profile"), PROFILE)

    alice_client.post(response["Location"], {"password": "not the password"})

    alice.refresh_from_db()
    assert str(alice.phone) == "+442079460958"


def test_other_profile_changes_need_no_password(alice_client, alice):
    response = alice_client.post(reverse("accounts:profile"), PROFILE | {"phone": str(alice.phone)})

    assert response["Location"] == reverse("accounts:profile")
    alice.refresh_from_db()
    assert alice.city == "Paris"
