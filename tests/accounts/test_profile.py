from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import TEST_PASSWORD
from tests.helpers import PROFILE


def test_it_shows_the_profile_form_filled_in(alice_client, alice):
    response = alice_client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    html = response.content.decode()
    assert alice.full_name in html
    assert alice.address_line1 in html
    assert 'autocomplete="postal-code"' in html


def test_it_saves_every_profile_field(alice_client, alice):
    # A new phone number needs a recent password check (tests/accounts/test_phone_reauthentication).
    alice_client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    response = alice_client.post(reverse("accounts:profile"), PROFILE)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.full_name == "Alice A. Archer"
    assert alice.business_name == "Archer Web Ltd"
    assert str(alice.phone) == "+33142685300"
    assert alice.mailing_address_lines == ["5 Rue de Rivoli", "75001 Paris", "France"]
    follow = alice_client.get(response["Location"])
    assert "Your profile has been saved." in follow.content.decode()


def test_it_keeps_what_was_saved_when_the_form_has_errors(alice_client, alice):
    before = alice.address_line1

    response = alice_client.post(
        reverse("accounts:profile"), PROFILE | {"phone": "not a phone", "city": ""}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid phone number" in html
    assert "This field is required." in html
    assert 'aria-invalid="true"' in html
    alice.refresh_from_db()
    assert alice.address_line1 == before


def test_it_ignores_an_email_sent_with_the_profile(alice_client, alice):
    alice_client.post(reverse("accounts:profile"), PROFILE | {"email": "mallory@example.com"})

    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_it_changes_the_email_only_after_the_new_address_is_confirmed(
    alice_client, alice, django_capture_on_commit_callbacks
):
    from allauth.account.models import EmailAddress
    from django.core import mail

    # Changing the sign-in address is sensitive: allauth asks for the password again first.
    response = alice_client.post(
        reverse("account_email"), {"action_add": "", "email": "alice.new@example.com"}
    )
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    alice_client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("account_email"), {"action_add": "", "email": "alice.new@example.com"}
        )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert mail.outbox[-1].to == ["alice.new@example.com"]
    page = alice_client.get(reverse("accounts:profile")).content.decode()
    assert "alice.new@example.com" in page

    pending = EmailAddress.objects.get(email="alice.new@example.com")
    key = mail.outbox[-1].body.split("/accounts/confirm-email/")[1].split("/")[0]
    alice_client.post(reverse("account_confirm_email", args=[key]))

    alice.refresh_from_db()
    pending.refresh_from_db()
    assert pending.verified
    assert alice.email == "alice.new@example.com"


@pytest.mark.parametrize(
    "name", ["core:dashboard", "accounts:index", "accounts:profile", "usersessions_list"]
)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, db, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
