from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from notifications.models import ConsentChannel, ConsentRecord, Preferences
from notifications.services import preferences_update
from notifications.tokens import make_unsubscribe_token
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str) -> None:
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_a_customer_chooses_what_to_receive_under_account(page, alice):
    sign_in(page, alice.email)
    page.goto(reverse("accounts:profile"))
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Notifications").click()

    page.get_by_label("News and offers by email").check()
    page.get_by_label("Account alerts by text message").check()
    page.get_by_role("button", name="Save choices").click()

    expect(page.get_by_text("Your notification choices have been saved.")).to_be_visible()
    expect(page.get_by_label("News and offers by email")).to_be_checked()
    expect(page.get_by_role("cell", name="Preferences page").first).to_be_visible()
    preferences = Preferences.objects.get(user=alice)
    assert (preferences.marketing_email, preferences.sms_alerts) == (True, True)


def test_the_unsubscribe_link_asks_first_then_unsubscribes_without_signing_in(page, alice):
    preferences_update(
        user=alice, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )
    token = make_unsubscribe_token(user_id=alice.pk, purpose="marketing_email")

    page.goto(reverse("notifications:unsubscribe", args=[token]))
    expect(page.get_by_role("heading", name="Unsubscribe")).to_be_visible()
    assert Preferences.objects.get(user=alice).marketing_email is True

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    assert Preferences.objects.get(user=alice).marketing_email is False
    assert ConsentRecord.objects.filter(user=alice).first().channel == (
        ConsentChannel.UNSUBSCRIBE_LINK
    )
