from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from privacy.models import CookieConsentRecord
from tests.factories import UserFactory
from tests.helpers import clear_cache


def choose(client, **data):
    return client.post(reverse("privacy:consent"), data)


def beacon_timing(client):
    return client.post(
        reverse("privacy:beacon"),
        {"kind": "timing", "path": "/", "ttfb": 10, "dom_ready": 20, "load": 30},
    )


@pytest.mark.django_db
def test_a_visitor_without_an_account_is_sent_to_sign_in(client):
    response = client.get(reverse("privacy:index"))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.django_db
def test_the_menu_shows_privacy_once_signed_in(alice_client):
    html = alice_client.get(reverse("core:dashboard")).content.decode()

    assert f'href="{reverse("privacy:index")}"' in html


@pytest.mark.django_db
def test_the_customer_sees_their_own_ledger_with_versions_and_ip(alice_client):
    choose(alice_client, choice="accept_all")

    html = alice_client.get(reverse("privacy:index")).content.decode()

    record = CookieConsentRecord.objects.get()
    assert "Accepted all" in html
    assert record.declaration_version in html
    assert "version 1" in html and "127.0.0.1" in html


@pytest.mark.django_db
def test_bob_does_not_see_alices_ledger(alice_client, bob):
    choose(alice_client, choice="accept_all")
    bob_client = Client()
    bob_client.force_login(bob)

    html = bob_client.get(reverse("privacy:index")).content.decode()

    assert "Accepted all" not in html
    assert "No cookie choice has been made" in html


@pytest.mark.django_db
def _privacy_page_queries(browser) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(reverse("privacy:index")).status_code == 200
    # allauth's session-activity tracking writes now and then; it is not this page's work.
    return [q["sql"] for q in captured if "usersessions_usersession" not in q["sql"]]


@pytest.mark.django_db
def test_the_ledger_page_makes_the_same_queries_for_one_row_or_many(alice_client):
    choose(alice_client, choice="accept_all")
    alice_client.get(reverse("privacy:index"))  # reads her withdrawals once into the cache
    one = _privacy_page_queries(alice_client)
    for _ in range(5):
        choose(alice_client, choice="reject_all")
        choose(alice_client, choice="accept_all")

    many = _privacy_page_queries(alice_client)

    assert len(many) == len(one)
    # The ledger with its policy versions in one query, the acceptances in another,
    # the GDPR requests in a third.
    assert len([sql for sql in many if "privacy_" in sql]) == 3


@pytest.mark.django_db
def test_withdrawing_one_group_takes_effect_at_once_and_is_recorded(alice_client, alice):
    choose(alice_client, choice="accept_all")
    assert beacon_timing(alice_client).status_code == 204

    response = alice_client.post(reverse("privacy:withdraw"), {"group": "performance"})

    assert response.status_code == 302
    assert beacon_timing(alice_client).status_code == 403
    latest = CookieConsentRecord.objects.filter(user=alice).first()
    assert latest.action == "withdraw"
    assert latest.answers == {"functional": True, "performance": False, "advertising": True}


@pytest.mark.django_db
def test_withdrawing_all_applies_to_the_customers_other_browsers_too(
    alice, django_capture_on_commit_callbacks
):
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        browser.force_login(alice)
        choose(browser, choice="accept_all")
    assert beacon_timing(phone).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        laptop.post(reverse("privacy:withdraw"), {"group": "all"})

    assert beacon_timing(phone).status_code == 403
    # Consenting again on the phone afterwards is honoured.
    choose(phone, choice="accept_all")
    assert beacon_timing(phone).status_code == 204


@pytest.mark.django_db
def test_withdrawing_an_unknown_group_is_refused(alice_client):
    response = alice_client.post(reverse("privacy:withdraw"), {"group": "everything"})

    assert response.status_code == 400
    assert not CookieConsentRecord.objects.exists()


@pytest.mark.django_db
def test_a_withdrawal_by_one_customer_leaves_another_customers_consent_alone(
    alice, django_capture_on_commit_callbacks
):
    bob = UserFactory()
    alice_browser, bob_browser = Client(), Client()
    alice_browser.force_login(alice)
    bob_browser.force_login(bob)
    choose(alice_browser, choice="accept_all")
    choose(bob_browser, choice="accept_all")

    with django_capture_on_commit_callbacks(execute=True):
        alice_browser.post(reverse("privacy:withdraw"), {"group": "all"})

    assert beacon_timing(bob_browser).status_code == 204


@pytest.mark.django_db
def test_consent_given_in_another_browser_can_be_withdrawn_from_this_one(
    alice, django_capture_on_commit_callbacks
):
    laptop, phone = Client(), Client()
    laptop.force_login(alice)
    phone.force_login(alice)
    choose(phone, choice="custom", advertising="on")

    html = laptop.get(reverse("privacy:index")).content.decode()
    assert "given in another browser" in html
    assert "Withdraw advertising consent" in html

    with django_capture_on_commit_callbacks(execute=True):
        laptop.post(reverse("privacy:withdraw"), {"group": "advertising"})

    visit = {"kind": "visit", "path": "/", "from_path": "", "seconds": 1}
    assert phone.post(reverse("privacy:beacon"), visit).status_code == 403
    assert CookieConsentRecord.objects.filter(user=alice).first().answers["advertising"] is False


@pytest.mark.django_db
def test_a_withdrawal_holds_in_other_browsers_even_when_the_cache_is_emptied(
    alice, django_capture_on_commit_callbacks
):
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        browser.force_login(alice)
        choose(browser, choice="accept_all")

    with django_capture_on_commit_callbacks(execute=True):
        laptop.post(reverse("privacy:withdraw"), {"group": "performance"})
    clear_cache()  # a Redis restart or eviction; the sessions go with it
    phone.force_login(alice)

    assert beacon_timing(phone).status_code == 403
    visit = {"kind": "visit", "path": "/", "from_path": "", "seconds": 1}
    assert phone.post(reverse("privacy:beacon"), visit).status_code == 204
    assert CookieConsentRecord.objects.filter(user=alice).first().withdrawn == "performance"


@pytest.mark.django_db
def test_withdrawing_one_group_does_not_renew_the_age_of_the_others(alice_client):
    from django.core import signing

    from privacy import consent
    from privacy.selectors import declaration_version

    eleven_months_ago = consent.now_ms() - 335 * 24 * 60 * 60 * 1000
    alice_client.cookies["consent"] = consent.encode(
        visitor_id="e" * 32,
        accepted=frozenset({"functional", "performance"}),
        version=declaration_version(),
        chosen_at=eleven_months_ago,
    )

    response = alice_client.post(reverse("privacy:withdraw"), {"group": "performance"})

    kept = signing.loads(response.cookies["consent"].value, salt=consent.SALT)
    assert (kept["g"], kept["t"]) == ("functional", eleven_months_ago)


@pytest.mark.django_db
def test_the_ledger_says_which_groups_a_withdrawal_withdrew(alice_client):
    choose(alice_client, choice="accept_all")
    alice_client.post(reverse("privacy:withdraw"), {"group": "advertising"})

    html = alice_client.get(reverse("privacy:index")).content.decode()

    assert "Withdrew consent (advertising)" in html
