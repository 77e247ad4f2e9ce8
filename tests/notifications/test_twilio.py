"""SMS through the official twilio library, with an injected HTTP client instead of the network."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from django.test import Client
from django.urls import reverse
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from notifications.delivery import message_deliver
from notifications.errors import NotConfiguredError
from notifications.models import (
    ConsentChannel,
    ConsentRecord,
    OutboxMessage,
    Preferences,
    Status,
    TwilioCallback,
)
from notifications.services import notify, preferences_update
from notifications.sms import TwilioBackend
from tests.helpers import FROM_NUMBER

pytestmark = pytest.mark.django_db

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "twilio-test-auth-token"
SITE_URL = "https://panel.example.com"


class FakeTwilioHttp(HttpClient):  # type: ignore[misc]  # twilio is untyped
    """Answers the Messages API as Twilio does (shape from its Message resource reference)."""

    requests: list[dict[str, Any]] = []
    answers: list[tuple[int, dict[str, Any]] | Exception] = []

    def __init__(self) -> None:
        super().__init__(logger=logging.getLogger("tests.twilio"), is_async=False)

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, **kwargs):
        FakeTwilioHttp.requests.append(
            {"method": method, "uri": uri, "data": dict(data or {}), "auth": auth}
        )
        answer = FakeTwilioHttp.answers.pop(0) if FakeTwilioHttp.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            status, body = answer
            return Response(status, json.dumps(body))
        return Response(201, json.dumps(message_resource(data)))


def message_resource(data: dict[str, Any]) -> dict[str, Any]:
    sid = f"SM{len(FakeTwilioHttp.requests):032x}"
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": data["Body"],
        "date_created": "Wed, 25 Nov 2026 19:00:00 +0000",
        "date_sent": None,
        "date_updated": "Wed, 25 Nov 2026 19:00:00 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": data["From"],
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"
        },
        "to": data["To"],
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
    }


def twilio_error(code: int, status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class InjectedTwilioBackend(TwilioBackend):
    """The real backend and library; only the HTTP client is ours."""

    def __init__(self) -> None:
        super().__init__(http_client=FakeTwilioHttp())


@pytest.fixture(autouse=True)
def twilio(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.SITE_URL = SITE_URL
    settings.SMS_BACKEND = "tests.notifications.test_twilio.InjectedTwilioBackend"
    FakeTwilioHttp.requests = []
    FakeTwilioHttp.answers = []


@pytest.fixture
def alerted_alice(alice):
    preferences_update(
        user=alice, choices={"sms_alerts": True}, channel="preferences_page", ip_address=None
    )
    return alice


def queue_alert(user) -> OutboxMessage:
    [row] = notify(user=user, kind="welcome", context={}, channels=("sms",))
    return row


def test_an_sms_alert_goes_through_twilio(alerted_alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = queue_alert(alerted_alice)

    [sent] = FakeTwilioHttp.requests
    assert sent["method"] == "POST"
    assert sent["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent["auth"] == (ACCOUNT_SID, AUTH_TOKEN)
    assert sent["data"]["To"] == "+442079460958"
    assert sent["data"]["From"] == FROM_NUMBER
    assert sent["data"]["Body"].startswith("Welcome to OnePanel, Alice.")
    assert sent["data"]["StatusCallback"] == SITE_URL + reverse("notifications:twilio_status")
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.provider_id == f"SM{1:032x}"


def test_an_invalid_number_fails_the_row_without_retry(alerted_alice):
    FakeTwilioHttp.answers = [twilio_error(21211, 400, "The 'To' number is not valid.")]
    row = queue_alert(alerted_alice)

    assert message_deliver(message_id=row.pk) == Status.FAILED

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert row.last_error == "Twilio error 21211: Invalid 'To' phone number"
    assert len(FakeTwilioHttp.requests) == 1


def test_an_unsubscribed_recipient_fails_the_row_without_retry(alerted_alice):
    FakeTwilioHttp.answers = [twilio_error(21610, 400, "Attempt to send to unsubscribed recipient")]
    row = queue_alert(alerted_alice)

    assert message_deliver(message_id=row.pk) == Status.FAILED
    row.refresh_from_db()
    assert "21610" in row.last_error and "STOP" in row.last_error


@pytest.mark.parametrize(
    "answer",
    [
        twilio_error(20429, 429, "Too Many Requests"),
        twilio_error(20500, 500, "Internal Server Error"),
        requests.ConnectionError("Connection reset by peer"),
    ],
    ids=["rate-limited", "server-error", "network"],
)
def test_transient_twilio_errors_retry_with_backoff(alerted_alice, answer):
    FakeTwilioHttp.answers = [answer]
    row = queue_alert(alerted_alice)

    assert message_deliver(message_id=row.pk) == Status.QUEUED
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.claimed_at is not None
    assert row.next_attempt_at > row.claimed_at
    assert row.last_error

    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=row.claimed_at)
    assert message_deliver(message_id=row.pk) == Status.SENT


def test_empty_keys_say_twilio_is_not_configured(alerted_alice, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_FROM_NUMBER = ""
    with pytest.raises(NotConfiguredError, match="Twilio is not configured: set TWILIO_AUTH_TOKEN"):
        TwilioBackend()

    row = queue_alert(alerted_alice)
    assert message_deliver(message_id=row.pk) == Status.QUEUED
    row.refresh_from_db()
    assert row.last_error == (
        "Twilio is not configured: set TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER."
    )
    assert FakeTwilioHttp.requests == []


# --- callbacks from Twilio -------------------------------------------------------


def signed_post(name: str, params: dict[str, str], *, token: str = AUTH_TOKEN):
    path = reverse(name)
    signature = RequestValidator(token).compute_signature(SITE_URL + path, params)
    return Client(enforce_csrf_checks=True).post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def sent_alert(user) -> OutboxMessage:
    row = queue_alert(user)
    message_deliver(message_id=row.pk)
    row.refresh_from_db()
    return row


def test_a_signed_delivery_report_marks_the_row_delivered(alerted_alice):
    row = sent_alert(alerted_alice)

    response = signed_post(
        "notifications:twilio_status",
        {"MessageSid": row.provider_id, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID},
    )

    assert response.status_code == 204
    row.refresh_from_db()
    assert row.status == Status.DELIVERED
    assert row.delivered_at is not None


def test_an_undelivered_report_fails_the_row_with_the_error_code(alerted_alice):
    row = sent_alert(alerted_alice)

    signed_post(
        "notifications:twilio_status",
        {"MessageSid": row.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )

    row.refresh_from_db()
    assert (row.status, row.last_error) == (
        Status.FAILED,
        "Twilio reported undelivered (error 30003)",
    )


def test_a_late_sent_report_does_not_undo_delivered(alerted_alice):
    row = sent_alert(alerted_alice)
    signed_post(
        "notifications:twilio_status", {"MessageSid": row.provider_id, "MessageStatus": "delivered"}
    )
    signed_post(
        "notifications:twilio_status", {"MessageSid": row.provider_id, "MessageStatus": "failed"}
    )

    row.refresh_from_db()
    assert row.status == Status.DELIVERED


def test_a_report_signed_with_another_token_is_refused(alerted_alice):
    row = sent_alert(alerted_alice)

    response = signed_post(
        "notifications:twilio_status",
        {"MessageSid": row.provider_id, "MessageStatus": "delivered"},
        token="someone-elses-token",
    )

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_a_report_with_tampered_parameters_is_refused(alerted_alice):
    row = sent_alert(alerted_alice)
    params = {"MessageSid": row.provider_id, "MessageStatus": "sent"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        SITE_URL + reverse("notifications:twilio_status"), params
    )

    response = Client().post(
        reverse("notifications:twilio_status"),
        {"MessageSid": row.provider_id, "MessageStatus": "delivered"},
        HTTP_X_TWILIO_SIGNATURE=signature,
    )

    assert response.status_code == 403


def test_an_unsigned_report_is_refused(alerted_alice):
    response = Client().post(
        reverse("notifications:twilio_status"), {"MessageSid": "SMx", "MessageStatus": "delivered"}
    )
    assert response.status_code == 403


def test_callbacks_are_refused_while_twilio_is_not_configured(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    response = signed_post(
        "notifications:twilio_inbound", {"From": "+442079460958", "Body": "STOP"}, token=""
    )
    assert response.status_code == 403


def test_a_signed_report_without_a_sid_is_a_400(alerted_alice):
    response = signed_post("notifications:twilio_status", {"MessageStatus": "delivered"})
    assert response.status_code == 400


def test_inbound_stop_withdraws_sms_consent_and_start_restores_alerts(alerted_alice):
    preferences_update(
        user=alerted_alice,
        choices={"marketing_sms": True},
        channel="preferences_page",
        ip_address=None,
    )

    response = signed_post(
        "notifications:twilio_inbound",
        {"From": "+442079460958", "To": FROM_NUMBER, "Body": " stop ", "MessageSid": "SM1"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    preferences = Preferences.objects.get(user=alerted_alice)
    assert (preferences.sms_alerts, preferences.marketing_sms) == (False, False)
    assert notify(user=alerted_alice, kind="welcome", context={}, channels=("sms",)) == []
    records = ConsentRecord.objects.filter(user=alerted_alice, channel=ConsentChannel.SMS_REPLY)
    assert sorted(records.values_list("purpose", "granted")) == [
        ("marketing_sms", False),
        ("sms_alerts", False),
    ]

    signed_post(
        "notifications:twilio_inbound",
        {"From": "+442079460958", "Body": "START", "MessageSid": "SM2"},
    )

    preferences.refresh_from_db()
    assert (preferences.sms_alerts, preferences.marketing_sms) == (True, False)


def test_inbound_chatter_changes_nothing(alerted_alice):
    signed_post(
        "notifications:twilio_inbound",
        {"From": "+442079460958", "Body": "stop it please", "MessageSid": "SM3"},
    )
    assert Preferences.objects.get(user=alerted_alice).sms_alerts is True


def test_an_unsigned_stop_is_refused(alerted_alice):
    response = Client().post(
        reverse("notifications:twilio_inbound"), {"From": "+442079460958", "Body": "STOP"}
    )
    assert response.status_code == 403
    assert Preferences.objects.get(user=alerted_alice).sms_alerts is True


def test_webhooks_refuse_get():
    assert Client().get(reverse("notifications:twilio_status")).status_code == 405


# --- bad fields and replays -------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("ErrorCode", "300\x0003"), ("MessageSid", "SM\x00abc"), ("MessageStatus", "deli\x00vered")],
)
def test_a_signed_report_with_a_nul_is_a_400_with_a_reason(alerted_alice, caplog, field, value):
    row = sent_alert(alerted_alice)
    params = {"MessageSid": row.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}

    response = signed_post("notifications:twilio_status", params | {field: value})

    assert response.status_code == 400
    assert response.text.startswith(f"{field}: ")
    assert "Signed Twilio status callback refused" in caplog.text
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_a_signed_inbound_message_with_a_nul_is_a_400(alerted_alice):
    response = signed_post(
        "notifications:twilio_inbound",
        {"From": "+44207946\x000958", "Body": "STOP", "MessageSid": "SM" + "a" * 32},
    )

    assert response.status_code == 400
    assert "From: Null characters are not allowed." in response.text
    assert Preferences.objects.get(user=alerted_alice).sms_alerts is True


def test_a_replayed_stop_does_not_undo_a_later_start(alerted_alice):
    stop = {"From": "+442079460958", "Body": "STOP", "MessageSid": "SM" + "1" * 32}
    start = {"From": "+442079460958", "Body": "START", "MessageSid": "SM" + "2" * 32}
    signed_post("notifications:twilio_inbound", stop)
    signed_post("notifications:twilio_inbound", start)

    replay = signed_post("notifications:twilio_inbound", stop)

    assert replay.status_code == 200
    assert Preferences.objects.get(user=alerted_alice).sms_alerts is True


def test_a_replayed_delivery_report_is_acknowledged_and_ignored(alerted_alice, caplog):
    caplog.set_level(logging.INFO, logger="notifications.sms_callbacks")
    row = sent_alert(alerted_alice)
    report = {"MessageSid": row.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}

    assert signed_post("notifications:twilio_status", report).status_code == 204
    assert signed_post("notifications:twilio_status", report).status_code == 204

    assert TwilioCallback.objects.filter(message_sid=row.provider_id).count() == 1
    assert f"Twilio report {row.provider_id} undelivered was received before" in caplog.text


def test_each_status_of_one_message_is_applied(alerted_alice):
    row = sent_alert(alerted_alice)
    signed_post(
        "notifications:twilio_status", {"MessageSid": row.provider_id, "MessageStatus": "sent"}
    )

    signed_post(
        "notifications:twilio_status", {"MessageSid": row.provider_id, "MessageStatus": "delivered"}
    )

    row.refresh_from_db()
    assert row.status == Status.DELIVERED
