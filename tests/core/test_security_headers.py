"""Headers and refusals every page shares."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse


@pytest.mark.parametrize("url", ["/", "/privacy/", "/accounts/login/", "/no-such-page/"])
def test_every_page_sends_a_permissions_policy(client, db, url):
    policy = client.get(url)["Permissions-Policy"]

    for feature in ("camera=()", "microphone=()", "geolocation=()", "usb=()"):
        assert feature in policy


def test_a_signed_in_page_sends_a_permissions_policy(alice_client):
    assert "camera=()" in alice_client.get(reverse("core:dashboard"))["Permissions-Policy"]


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT"])
def test_trace_and_its_kin_are_refused(client, db, method):
    response = client.generic(method, "/", HTTP_COOKIE="sessionid=secret")

    assert response.status_code == 405
    assert "secret" not in response.text
    assert response["Allow"] == "GET, HEAD, POST, OPTIONS"


def test_a_host_that_is_not_allowed_gets_400_not_500(client, db, caplog):
    caplog.set_level(logging.WARNING, logger="django.security")

    response = client.get("/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    assert any(r.name == "django.security.DisallowedHost" for r in caplog.records)


def test_a_host_that_is_not_allowed_gets_400_on_a_signed_in_page(alice_client):
    response = alice_client.get(reverse("core:dashboard"), HTTP_HOST="attacker.example")

    assert response.status_code == 400
