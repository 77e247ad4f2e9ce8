from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy.models import PageTiming, PageVisit

TIMING = {"kind": "timing", "path": "/plans/", "ttfb": 42, "dom_ready": 180, "load": 350}
VISIT = {"kind": "visit", "path": "/plans/", "from_path": "/", "seconds": 12}


def choose(client, **data):
    return client.post(reverse("privacy:consent"), data)


def beacon(client, data):
    return client.post(reverse("privacy:beacon"), data)


@pytest.mark.django_db
def test_nothing_is_measured_before_a_choice(client):
    assert beacon(client, TIMING).status_code == 403
    assert beacon(client, VISIT).status_code == 403
    assert not PageTiming.objects.exists() and not PageVisit.objects.exists()


@pytest.mark.django_db
def test_nothing_is_measured_after_reject_all(client):
    choose(client, choice="reject_all")

    assert beacon(client, TIMING).status_code == 403
    assert beacon(client, VISIT).status_code == 403
    assert not PageTiming.objects.exists() and not PageVisit.objects.exists()


@pytest.mark.django_db
def test_performance_consent_stores_timings_without_any_identifier(client):
    choose(client, choice="custom", performance="on")

    assert beacon(client, TIMING).status_code == 204
    assert beacon(client, VISIT).status_code == 403

    timing = PageTiming.objects.get()
    assert (timing.path, timing.ttfb_ms, timing.dom_ready_ms, timing.load_ms) == (
        "/plans/",
        42,
        180,
        350,
    )
    field_names = {f.name for f in PageTiming._meta.get_fields()}
    assert field_names == {"id", "path", "ttfb_ms", "dom_ready_ms", "load_ms", "recorded_on"}


@pytest.mark.django_db
def test_advertising_consent_stores_anonymous_page_paths(client):
    choose(client, choice="custom", advertising="on")

    assert beacon(client, VISIT).status_code == 204

    visit = PageVisit.objects.get()
    assert (visit.from_path, visit.path, visit.seconds_on_page) == ("/", "/plans/", 12)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        TIMING | {"load": -1},
        TIMING | {"path": "https://evil.example/"},
        TIMING | {"ttfb": "fast"},
        {"kind": "fingerprint"},
    ],
)
def test_bad_measurements_are_refused_with_a_reason(client, data):
    choose(client, choice="accept_all")

    response = beacon(client, data)

    assert response.status_code == 400
    assert response.content
    assert not PageTiming.objects.exists()


@pytest.mark.django_db
def test_the_measurement_script_loads_only_with_consent(client):
    assert "privacy/measure.js" not in client.get("/").content.decode()
    choose(client, choice="reject_all")
    assert "privacy/measure.js" not in client.get("/").content.decode()
    choose(client, choice="custom", performance="on")

    html = client.get("/").content.decode()

    assert "privacy/measure.js" in html and 'data-performance="1"' in html
    assert 'data-advertising="0"' in html


@pytest.mark.django_db
def test_the_google_tag_needs_both_an_id_and_advertising_consent(client, settings):
    choose(client, choice="accept_all")
    response = client.get("/")
    assert "googletagmanager" not in response.content.decode()
    assert "googletagmanager" not in response["Content-Security-Policy"]

    settings.GOOGLE_TAG_ID = "G-TEST123"
    response = client.get("/")
    assert "https://www.googletagmanager.com/gtag/js?id=G-TEST123" in response.content.decode()
    assert "https://*.googletagmanager.com" in response["Content-Security-Policy"]

    choose(client, choice="custom", functional="on", performance="on")
    response = client.get("/")
    assert "googletagmanager" not in response.content.decode()
    assert "googletagmanager" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_staff_see_page_speed_charted_per_day(client, charlie):
    today = timezone.localdate()
    for days_ago, load in ((0, 300), (0, 500), (1, 900)):
        PageTiming.objects.create(
            path="/",
            ttfb_ms=50,
            dom_ready_ms=100,
            load_ms=load,
            recorded_on=today - datetime.timedelta(days=days_ago),
        )
    client.force_login(charlie)

    html = client.get(reverse("admin:privacy_pagetiming_changelist")).content.decode()

    assert "<svg" in html and html.count("<rect") == 2
    assert f"{today}: 400 ms load" in html
    assert f"{today - datetime.timedelta(days=1)}: 900 ms load" in html


@pytest.mark.django_db
def test_customers_cannot_see_the_page_speed_admin(alice_client):
    response = alice_client.get(reverse("admin:privacy_pagetiming_changelist"))

    assert response.status_code == 302


@pytest.mark.django_db
def test_one_address_cannot_flood_the_measurements(client, monkeypatch):
    monkeypatch.setattr("privacy.views.BEACONS_PER_MINUTE", 3)
    choose(client, choice="accept_all")

    statuses = [beacon(client, TIMING).status_code for _ in range(4)]

    assert statuses == [204, 204, 204, 429]
    assert PageTiming.objects.count() == 3


@pytest.mark.django_db
def test_stored_paths_name_the_page_never_the_keys_or_numbers_in_it(client):
    choose(client, choice="accept_all")
    reset = "/accounts/password/reset/key/1a-5x9-secretkey/"

    assert beacon(client, TIMING | {"path": "/billing/invoices/123/"}).status_code == 204
    assert beacon(client, VISIT | {"path": reset, "from_path": "/privacy/v2/"}).status_code == 204

    assert PageTiming.objects.get().path == "/billing/invoices/<pk>/"
    visit = PageVisit.objects.get()
    assert (visit.path, visit.from_path) == (
        "/accounts/password/reset/key/<uidb36>-<key>/",
        "/privacy/v<version>/",
    )


@pytest.mark.django_db
def test_a_path_that_is_no_page_of_ours_is_refused_and_never_stored(client):
    choose(client, choice="accept_all")

    response = beacon(client, TIMING | {"path": "/alice@example.com"})
    assert response.status_code == 400
    assert "No such page" in response.content.decode()
    assert beacon(client, VISIT | {"from_path": "/alice@example.com"}).status_code == 204

    assert not PageTiming.objects.exists()
    assert PageVisit.objects.get().from_path == ""


def test_the_google_tag_writes_host_only_cookies_the_server_can_expire():
    # The server expires _ga/_ga_* without a Domain attribute (host-only); gtag's default
    # cookie_domain "auto" would write them for the parent domain, out of that expiry's reach.
    from django.contrib.staticfiles import finders

    path = finders.find("privacy/gtag.js")
    assert isinstance(path, str)
    with open(path, encoding="utf-8") as script:
        source = script.read()

    assert 'cookie_domain: "none"' in source


@pytest.mark.django_db
def test_a_large_body_is_refused_before_it_is_read(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    choose(client, choice="accept_all")
    upload = SimpleUploadedFile("big.bin", b"x" * 3_000_000)

    response = beacon(client, TIMING | {"file": upload})

    assert response.status_code == 413
    assert "at most 4 KB" in response.content.decode()
    assert not PageTiming.objects.exists()
