from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import ConsentChannel, ConsentRecord, Preferences
from notifications.services import preferences_update

pytestmark = pytest.mark.django_db

URL = "/account/notifications/"


def test_it_lives_under_account():
    assert reverse("notifications:preferences") == URL


def test_it_needs_a_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_shows_everything_off_for_a_customer_who_never_chose(alice_client):
    response = alice_client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert " checked" not in html
    assert "You have not made any choice yet" in html
    assert f'href="{URL}"' in html  # in the account sidebar


def test_saving_records_each_change_with_ip_and_channel(alice, client):
    client.force_login(alice)

    response = client.post(
        URL, {"marketing_email": "on", "sms_alerts": "on"}, REMOTE_ADDR="198.51.100.23"
    )

    assert response.status_code == 302
    preferences = Preferences.objects.get(user=alice)
    assert (preferences.marketing_email, preferences.marketing_sms, preferences.sms_alerts) == (
        True,
        False,
        True,
    )
    records = ConsentRecord.objects.filter(user=alice).order_by("purpose")
    assert [(r.purpose, r.granted, r.channel, r.ip_address) for r in records] == [
        ("marketing_email", True, ConsentChannel.PREFERENCES_PAGE, "198.51.100.23"),
        ("sms_alerts", True, ConsentChannel.PREFERENCES_PAGE, "198.51.100.23"),
    ]
    html = client.get(URL).content.decode()
    assert "Your notification choices have been saved." in html
    assert 'id="id_marketing_email" checked' in html


def test_switching_off_is_recorded_too(alice_client, alice):
    alice_client.post(URL, {"marketing_email": "on"})
    alice_client.post(URL, {})

    assert [r.granted for r in ConsentRecord.objects.filter(user=alice)] == [False, True]


def test_bob_sees_his_own_choices_not_alices(alice, bob, client):
    preferences_update(
        user=alice,
        choices={"marketing_email": True},
        channel=ConsentChannel.PREFERENCES_PAGE,
        ip_address="192.0.2.44",
    )
    client.force_login(bob)

    html = client.get(URL).content.decode()

    assert "192.0.2.44" not in html
    assert " checked" not in html


def test_the_history_costs_the_same_queries_however_long_it_is(
    alice, alice_client, django_assert_num_queries, django_assert_max_num_queries
):
    def flip(times: int) -> None:
        for i in range(times):
            preferences_update(
                user=alice,
                choices={"marketing_sms": i % 2 == 0},
                channel=ConsentChannel.PREFERENCES_PAGE,
                ip_address="192.0.2.1",
            )

    flip(1)
    alice_client.get(URL)  # warm the session cache
    # Session, user and allauth's user-session tracking, then preferences and history.
    with django_assert_max_num_queries(8) as few:
        alice_client.get(URL)
    flip(15)
    with django_assert_num_queries(len(few.captured_queries)):
        response = alice_client.get(URL)
    assert ConsentRecord.objects.filter(user=alice).count() == 15
    assert response.content.decode().count("<tr>") == 16  # header + 15 records


def test_behind_a_trusted_proxy_the_customers_address_is_recorded(alice, client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    client.force_login(alice)

    client.post(
        URL,
        {"marketing_sms": "on"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )

    assert ConsentRecord.objects.get(user=alice).ip_address == "203.0.113.50"
