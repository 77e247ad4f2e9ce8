from __future__ import annotations

import datetime
import socket

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy.models import SessionRecord
from privacy.tasks import prune_technical_data
from tests.factories import TEST_PASSWORD

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def sign_in(user, user_agent, ip, capture):
    browser = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    with capture(execute=True):
        response = browser.post(
            reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD}
        )
    assert response.status_code == 302
    return browser


class FakeResolver:
    """Stands in for the DNS server behind socket.gethostbyaddr: names for some addresses,
    OSError (no PTR record) for the others, and a log of what was asked."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.asked: list[str] = []

    def __call__(self, ip: str) -> tuple[str, list[str], list[str]]:
        self.asked.append(ip)
        if ip not in self.names:
            raise socket.herror(1, "Unknown host")
        return self.names[ip], [], [ip]


@pytest.fixture
def resolver(monkeypatch) -> FakeResolver:
    fake = FakeResolver({"203.0.113.7": "host-7.isp.example.net"})
    monkeypatch.setattr(socket, "gethostbyaddr", fake)
    return fake


@pytest.mark.django_db
def test_signing_in_keeps_browser_system_device_ip_and_connection(
    alice, resolver, django_capture_on_commit_callbacks
):
    sign_in(alice, FIREFOX_WINDOWS, "203.0.113.7", django_capture_on_commit_callbacks)

    record = SessionRecord.objects.get(user=alice)
    assert record.browser == "Firefox 140"
    assert record.operating_system.startswith("Windows")
    assert record.device_type == "Computer"
    assert record.ip == "203.0.113.7"
    assert record.protocol == "HTTP (HTTP/1.1)"
    # The reverse DNS name of the address (its network), looked up by a task.
    assert resolver.asked == ["203.0.113.7"]
    assert record.network_host == "host-7.isp.example.net"


@pytest.mark.django_db
def test_an_address_without_a_reverse_name_keeps_the_ip_alone(
    alice, resolver, django_capture_on_commit_callbacks
):
    sign_in(alice, FIREFOX_WINDOWS, "198.51.100.20", django_capture_on_commit_callbacks)

    record = SessionRecord.objects.get(user=alice)
    assert resolver.asked == ["198.51.100.20"]
    assert (record.ip, record.network_host) == ("198.51.100.20", "")


@pytest.mark.django_db
def test_the_security_page_shows_each_sign_in_to_its_owner_only(
    alice, bob, django_capture_on_commit_callbacks
):
    phone = sign_in(alice, IPHONE, "203.0.113.7", django_capture_on_commit_callbacks)
    sign_in(alice, FIREFOX_WINDOWS, "198.51.100.20", django_capture_on_commit_callbacks)
    bobs = sign_in(bob, FIREFOX_WINDOWS, "192.0.2.55", django_capture_on_commit_callbacks)

    html = phone.get(reverse("privacy:security")).content.decode()

    for text in ("Mobile Safari 17", "iOS 17.0", "Phone", "203.0.113.7", "Firefox 140"):
        assert text in html
    assert "198.51.100.20" in html and "This browser" in html
    assert "192.0.2.55" not in html
    assert "203.0.113.7" not in bobs.get(reverse("privacy:security")).content.decode()


@pytest.mark.django_db
def test_the_security_page_query_count_does_not_grow_with_sign_ins(
    alice, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser = sign_in(alice, IPHONE, "203.0.113.7", django_capture_on_commit_callbacks)
    browser.get(reverse("privacy:security"))

    def privacy_queries():
        browser.get(reverse("privacy:security"))  # a sign-in elsewhere re-reads the customer
        with CaptureQueriesContext(connection) as captured:
            browser.get(reverse("privacy:security"))
        # allauth's session-activity tracking writes now and then; not this page's work.
        return [q["sql"] for q in captured if not q["sql"].startswith("UPDATE")]

    few = len(privacy_queries())
    for n in range(5):
        sign_in(alice, IPHONE, f"203.0.113.{n + 10}", django_capture_on_commit_callbacks)
    assert len(privacy_queries()) == few


@pytest.mark.django_db
def test_the_security_page_needs_a_signed_in_customer(client):
    response = client.get(reverse("privacy:security"))

    assert response.status_code == 302


@pytest.mark.django_db
def test_the_beat_job_prunes_technical_data_past_the_retention_period(alice, bob):
    now = timezone.now()
    old = SessionRecord.objects.create(
        user=alice,
        session_key_hash="a",
        browser="x",
        operating_system="y",
        device_type="z",
        protocol="HTTPS",
    )
    recent = SessionRecord.objects.create(
        user=bob,
        session_key_hash="b",
        browser="x",
        operating_system="y",
        device_type="z",
        protocol="HTTPS",
    )
    SessionRecord.objects.filter(pk=old.pk).update(signed_in_at=now - datetime.timedelta(days=91))
    SessionRecord.objects.filter(pk=recent.pk).update(
        signed_in_at=now - datetime.timedelta(days=89)
    )

    assert prune_technical_data.delay().get() == 1
    assert list(SessionRecord.objects.values_list("pk", flat=True)) == [recent.pk]
    assert prune_technical_data.delay().get() == 0


@pytest.mark.django_db
def test_the_retention_period_is_a_setting(alice, settings):
    settings.PRIVACY_TECHNICAL_DATA_DAYS = 7
    record = SessionRecord.objects.create(
        user=alice,
        session_key_hash="a",
        browser="x",
        operating_system="y",
        device_type="z",
        protocol="HTTPS",
    )
    SessionRecord.objects.filter(pk=record.pk).update(
        signed_in_at=timezone.now() - datetime.timedelta(days=8)
    )

    assert prune_technical_data() == 1


def test_the_prune_job_is_scheduled_daily_and_the_default_is_90_days():
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-prune-technical-data"]

    assert entry["task"] == "privacy.tasks.prune_technical_data"
    assert settings.PRIVACY_TECHNICAL_DATA_DAYS == 90
