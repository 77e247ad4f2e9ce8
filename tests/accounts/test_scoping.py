"""A second customer reaches none of the first one's account data."""

from __future__ import annotations

from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from notifications.models import OutboxMessage
from tests.factories import TEST_PASSWORD

ALICE_BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Safari/605.1.15"
)


def _sign_in(client: Client, email: str, user_agent: str, ip: str) -> None:
    response = client.post(
        reverse("account_login"),
        {"login": email, "password": "correct-horse-battery-staple"},
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
    )
    assert response.status_code == 302


def _browser(email: str, user_agent: str, ip: str) -> Client:
    """A browser signed in as `email`: every request carries its user agent and address."""
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    _sign_in(client, email, user_agent, ip)
    return client


BOB_BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
ACCOUNT_PAGES = ("core:dashboard", "accounts:index", "accounts:profile", "usersessions_list")
# What each page shows of its owner: name and email, or the signed-in browsers and addresses.
OWN_DETAILS = {
    "core:dashboard": ("full_name", "email"),
    "accounts:index": ("full_name", "email"),
    "accounts:profile": ("full_name", "email"),
    "usersessions_list": ("ip", "browser"),
}


def test_each_account_page_shows_its_owner_and_nothing_of_another_customer(alice, bob):
    browsers = {
        alice: _browser(alice.email, ALICE_BROWSER, "203.0.113.7"),
        bob: _browser(bob.email, BOB_BROWSER, "198.51.100.9"),
    }
    details = {
        alice: {
            "full_name": alice.full_name,
            "email": alice.email,
            "ip": "203.0.113.7",
            "browser": "Safari 17",
        },
        bob: {
            "full_name": bob.full_name,
            "email": bob.email,
            "ip": "198.51.100.9",
            "browser": "Firefox 140",
        },
    }

    for name in ACCOUNT_PAGES:
        for owner, other in ((alice, bob), (bob, alice)):
            response = browsers[owner].get(reverse(name))
            assert response.status_code == 200, name
            html = response.content.decode()
            for detail in OWN_DETAILS[name]:
                # The page shows its owner's detail (so the next check can fail)...
                assert details[owner][detail] in html, (name, owner.email, detail)
                # ... and never the other customer's.
                assert details[other][detail] not in html, (name, owner.email, detail)


def test_signing_out_other_sessions_ends_only_the_customers_own(alice, bob):
    alice_browser = _browser(alice.email, ALICE_BROWSER, "203.0.113.7")
    bob_laptop = _browser(bob.email, BOB_BROWSER, "198.51.100.9")
    bob_phone = _browser(bob.email, BOB_BROWSER, "198.51.100.10")

    response = bob_laptop.post(reverse("usersessions_list"))

    assert response.status_code == 302
    # The form signs sessions out: bob's other browser is signed out...
    assert bob_phone.get(reverse("core:dashboard")).status_code == 302
    assert bob_laptop.get(reverse("core:dashboard")).status_code == 200
    assert UserSession.objects.filter(user=bob).count() == 1
    # ... and alice's, in another account, stays signed in.
    assert UserSession.objects.filter(user=alice).count() == 1
    assert alice_browser.get(reverse("core:dashboard")).status_code == 200


def test_a_customer_manages_their_own_addresses_but_not_another_customers(
    alice, bob, django_capture_on_commit_callbacks
):
    EmailAddress.objects.create(user=bob, email="bob.second@example.com", verified=True)
    EmailAddress.objects.create(user=bob, email="bob.unconfirmed@example.com", verified=False)
    client = _browser(bob.email, BOB_BROWSER, "198.51.100.9")
    reauthenticated = client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    assert reauthenticated.status_code == 302

    # Positive controls: each action works on bob's own addresses.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_email"), {"action_send": "", "email": "bob.unconfirmed@example.com"}
        )
    assert OutboxMessage.objects.filter(recipient="bob.unconfirmed@example.com").count() == 1
    client.post(reverse("account_email"), {"action_primary": "", "email": "bob.second@example.com"})
    assert EmailAddress.objects.get(email="bob.second@example.com").primary
    client.post(
        reverse("account_email"), {"action_remove": "", "email": "bob.unconfirmed@example.com"}
    )
    assert not EmailAddress.objects.filter(email="bob.unconfirmed@example.com").exists()

    for action in ("action_remove", "action_primary", "action_send"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("account_email"), {action: "", "email": alice.email})
        assert response.status_code == 302, action
        assert response["Location"] == reverse("account_email"), action

    address = EmailAddress.objects.get(email=alice.email)
    assert (address.user, address.primary) == (alice, True)
    assert EmailAddress.objects.get(user=bob, primary=True).email == "bob.second@example.com"
    assert not OutboxMessage.objects.filter(recipient=alice.email).exists()


def test_a_made_up_confirmation_key_verifies_nothing(alice, bob, client):
    EmailAddress.objects.filter(user=alice).update(verified=False)
    client.force_login(bob)

    response = client.post(reverse("account_confirm_email", args=["not-a-real-key"]))

    assert response.status_code == 404
    assert not EmailAddress.objects.get(email=alice.email).verified
    # Positive control: the key from alice's own confirmation email does verify it.
    key = EmailConfirmationHMAC(EmailAddress.objects.get(email=alice.email)).key
    assert client.post(reverse("account_confirm_email", args=[key])).status_code == 302
    assert EmailAddress.objects.get(email=alice.email).verified
