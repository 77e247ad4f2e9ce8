from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.helpers import SIGNUP


@pytest.mark.django_db
def test_it_creates_a_customer_with_every_sign_up_field(client):
    response = client.post(reverse("account_signup"), SIGNUP)

    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.full_name == "Nia Newcomer"
    assert user.business_name == "Newcomer Hosting Ltd"
    assert str(user.phone) == "+14155550123"
    assert user.mailing_address_lines == [
        "1 Market St",
        "Suite 200",
        "94105 San Francisco",
        "CA",
        "United States of America",
    ]


@pytest.mark.django_db
def test_it_sends_a_verification_link_and_withholds_the_client_area_until_it_is_used(
    client, django_capture_on_commit_callbacks
):
    # allauth's emails go through the outbox, handed to the worker on commit.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)

    # The welcome email (notifications) may travel with it; one verification mail.
    [verification] = [m for m in mail.outbox if "confirm-email" in m.body]
    assert verification.to == ["new@example.com"]
    assert not EmailAddress.objects.get(email="new@example.com").verified
    # Mandatory verification: not signed in yet.
    assert client.get(reverse("core:dashboard")).status_code == 302

    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", str(verification.body))
    assert link
    path = link.group(0).split("testserver", 1)[1]
    response = client.post(path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new@example.com").verified


@pytest.mark.django_db
def test_it_rejects_a_phone_number_that_is_not_international(client):
    response = client.post(reverse("account_signup"), SIGNUP | {"phone": "12345"})

    assert response.status_code == 200
    assert "Enter a valid phone number" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_it_requires_name_address_and_country(client):
    data = SIGNUP | {"full_name": "", "address_line1": "", "city": "", "country": ""}

    response = client.post(reverse("account_signup"), data)

    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 4
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_creates_no_second_account_for_a_registered_email_and_tells_its_owner(
    client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP | {"email": "ALICE@example.com"})

    # allauth prevents account enumeration: the page looks the same, the owner is told.
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "already" in mail.outbox[0].body


@pytest.mark.django_db
def test_the_sign_up_page_labels_every_field(client):
    html = client.get(reverse("account_signup")).content.decode()

    for name in SIGNUP:
        assert re.search(rf'<label for="id_{name}"', html), name
