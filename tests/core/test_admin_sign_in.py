"""Staff sign in to /admin/ through allauth: rate limits, TOTP and user sessions apply."""

from __future__ import annotations

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.usersessions.models import UserSession
from django.urls import reverse

from tests.factories import TEST_PASSWORD


def current_code(secret: str) -> str:
    code: str = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    return code


def test_the_admin_login_page_hands_over_to_allauths_sign_in(client, db):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=%2Fadmin%2F"


def test_the_admin_login_form_no_longer_signs_in_with_a_password(client, charlie):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": charlie.email, "password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"


def test_staff_with_totp_need_the_code_as_well_as_the_password(client, charlie):
    secret = generate_totp_secret()
    TOTP.activate(charlie, secret)

    response = client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": charlie.email, "password": TEST_PASSWORD},
    )

    assert response["Location"] == reverse("mfa_authenticate")
    # The admin still sends the half-signed-in staff member on to the code.
    assert client.get("/admin/", follow=True).redirect_chain[-1][0] == reverse("mfa_authenticate")

    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # Signed in through allauth: the session is listed on the staff member's sessions page.
    assert UserSession.objects.filter(user=charlie).count() == 1


def test_wrong_passwords_at_the_staff_sign_in_are_throttled(client, charlie):
    login_url = client.get("/admin/login/?next=/admin/")["Location"]
    for _ in range(5):
        response = client.post(login_url, {"login": charlie.email, "password": "wrong guess"})
        assert response.status_code == 200

    response = client.post(login_url, {"login": charlie.email, "password": TEST_PASSWORD})

    assert "Too many failed login attempts" in response.text
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"


def test_with_mfa_required_staff_without_totp_are_sent_to_set_it_up(client, charlie, settings):
    settings.ADMIN_REQUIRE_MFA = True
    client.force_login(charlie)

    for url in ("/admin/", reverse("admin:accounts_user_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")

    TOTP.activate(charlie, generate_totp_secret())

    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


def test_without_mfa_required_staff_without_totp_open_the_admin(client, charlie, settings):
    settings.ADMIN_REQUIRE_MFA = False
    client.force_login(charlie)

    assert client.get("/admin/").status_code == 200


def test_customers_signed_in_through_allauth_are_refused_the_admin(client, alice):
    client.post(reverse("account_login"), {"login": alice.email, "password": TEST_PASSWORD})

    assert client.get("/admin/login/").status_code == 403
