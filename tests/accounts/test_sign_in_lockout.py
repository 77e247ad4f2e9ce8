"""Guessing a customer's password slows the guesser down, never locks the owner out."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import TEST_PASSWORD

GUESSER = "203.0.113.7"
OWNER = "198.51.100.20"


def sign_in(client, email: str, password: str, ip: str):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def test_wrong_guesses_from_one_address_do_not_lock_the_owner_out(client, alice):
    for _ in range(6):
        sign_in(client, alice.email, "a wrong guess", GUESSER)

    client.cookies.clear()
    response = sign_in(client, alice.email, TEST_PASSWORD, OWNER)

    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")


def test_the_address_that_guessed_is_held_back_even_with_the_right_password(client, alice):
    for _ in range(5):
        sign_in(client, alice.email, "a wrong guess", GUESSER)

    response = sign_in(client, alice.email, TEST_PASSWORD, GUESSER)

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.text


def test_one_address_guessing_across_accounts_is_still_limited(client, alice, bob):
    for index in range(10):
        sign_in(client, f"someone{index}@example.com", "a wrong guess", GUESSER)

    response = sign_in(client, bob.email, TEST_PASSWORD, GUESSER)

    assert "Too many failed login attempts" in response.text
