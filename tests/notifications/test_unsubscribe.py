from __future__ import annotations

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from notifications.models import ConsentChannel, ConsentRecord, Preferences
from notifications.services import preferences_update, unsubscribe_url
from notifications.tokens import make_unsubscribe_token, read_unsubscribe_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed_alice(alice):
    preferences_update(
        user=alice,
        choices={"marketing_email": True},
        channel=ConsentChannel.PREFERENCES_PAGE,
        ip_address="192.0.2.1",
    )
    return alice


def link_path(user) -> str:
    return reverse(
        "notifications:unsubscribe",
        args=[make_unsubscribe_token(user_id=user.pk, purpose="marketing_email")],
    )


def test_the_link_in_the_email_points_at_this_page(subscribed_alice, settings):
    settings.SITE_URL = "https://panel.example.com/"
    url = unsubscribe_url(user_id=subscribed_alice.pk, purpose="marketing_email")

    prefix = "https://panel.example.com/unsubscribe/"
    assert url.startswith(prefix) and url.endswith("/")
    request = read_unsubscribe_token(url.removeprefix(prefix).rstrip("/"))
    assert (request.user_id, request.purpose) == (subscribed_alice.pk, "marketing_email")


def test_get_shows_a_confirmation_and_never_unsubscribes(subscribed_alice):
    response = Client().get(link_path(subscribed_alice))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post">' in html
    assert "alice@example.com" in html
    assert Preferences.objects.get(user=subscribed_alice).marketing_email is True


def test_a_one_click_post_without_session_or_csrf_unsubscribes_at_once(subscribed_alice):
    mail_client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.9")

    response = mail_client.post(
        link_path(subscribed_alice),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert Preferences.objects.get(user=subscribed_alice).marketing_email is False
    record = ConsentRecord.objects.filter(user=subscribed_alice).first()
    assert (record.purpose, record.granted, record.channel, record.ip_address) == (
        "marketing_email",
        False,
        ConsentChannel.ONE_CLICK,
        "203.0.113.9",
    )


def test_the_button_on_the_confirmation_page_unsubscribes(subscribed_alice):
    client = Client(enforce_csrf_checks=True)

    response = client.post(link_path(subscribed_alice))

    assert "You are unsubscribed" in response.content.decode()
    assert Preferences.objects.get(user=subscribed_alice).marketing_email is False
    assert ConsentRecord.objects.filter(user=subscribed_alice).first().channel == (
        ConsentChannel.UNSUBSCRIBE_LINK
    )


def test_a_second_unsubscribe_changes_nothing_and_records_nothing(subscribed_alice):
    Client().post(link_path(subscribed_alice))
    Client().post(link_path(subscribed_alice))

    assert ConsentRecord.objects.filter(user=subscribed_alice, granted=False).count() == 1


def test_a_tampered_token_is_refused_with_a_reason(subscribed_alice):
    path = link_path(subscribed_alice)
    tampered = path[:-3] + ("x" if path[-3] != "x" else "y") + path[-2:]

    response = Client().post(tampered, "List-Unsubscribe=One-Click", content_type="text/plain")

    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert Preferences.objects.get(user=subscribed_alice).marketing_email is True


def test_a_token_signed_for_something_else_is_refused(subscribed_alice):
    token = signing.dumps({"u": subscribed_alice.pk, "p": "marketing_email"}, salt="other")

    response = Client().post(reverse("notifications:unsubscribe", args=[token]))

    assert response.status_code == 400


def test_a_token_of_an_erased_customer_gives_404(bob):
    path = link_path(bob)
    bob.delete()

    assert Client().get(path).status_code == 404
    assert Client().post(path).status_code == 404


def test_bobs_link_unsubscribes_bob_only(subscribed_alice, bob):
    preferences_update(
        user=bob, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )

    Client().post(link_path(bob))

    assert Preferences.objects.get(user=bob).marketing_email is False
    assert Preferences.objects.get(user=subscribed_alice).marketing_email is True


def test_the_preferences_page_reflects_the_unsubscribe(subscribed_alice, client):
    Client().post(
        link_path(subscribed_alice),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    client.force_login(subscribed_alice)

    html = client.get(reverse("notifications:preferences")).content.decode()

    assert 'name="marketing_email"' in html
    assert 'name="marketing_email" id="id_marketing_email" checked' not in html
    assert "One-click unsubscribe from the mail client" in html


def test_other_methods_are_refused(subscribed_alice):
    assert Client().put(link_path(subscribed_alice)).status_code == 405
