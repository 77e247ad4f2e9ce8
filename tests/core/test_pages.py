from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


def test_the_home_page_invites_visitors_to_sign_up_or_in(client, db):
    response = client.get(reverse("core:home"))

    assert response.status_code == 200
    assert reverse("account_signup") in response.text
    assert reverse("account_login") in response.text


def test_the_home_page_sends_a_signed_in_customer_to_the_dashboard(alice_client):
    response = alice_client.get(reverse("core:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")


def test_the_dashboard_shows_the_customers_own_details(alice_client, alice):
    response = alice_client.get(reverse("core:dashboard"))

    assert response.status_code == 200
    assert alice.full_name in response.text
    assert alice.address_line1 in response.text
    assert 'aria-current="page"' in response.text


def test_the_menu_links_only_to_pages_that_exist(alice_client):
    from core.navigation import client_area_menu

    items = client_area_menu("/dashboard/")

    labels = [item.label for item in items]
    assert labels[0] == "Dashboard"
    assert "Account" in labels
    for item in items:
        assert alice_client.get(item.url).status_code == 200, item.label


def test_an_unknown_page_gets_a_friendly_404(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.text
    assert reverse("core:home") in response.text


def test_a_server_error_gets_a_friendly_500_page(db):
    from django.test import override_settings
    from django.urls import path

    def broken(request):
        raise RuntimeError("boom")

    urlpatterns = [path("broken/", broken)]
    client = Client(raise_request_exception=False)

    with override_settings(ROOT_URLCONF=type("Urls", (), {"urlpatterns": urlpatterns})):
        response = client.get("/broken/")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text


def test_pages_load_no_third_party_resources(client, db):
    html = client.get(reverse("account_signup")).text

    assert "http://" not in html.replace("http://testserver", "")
    assert "https://" not in html
    assert "/static/css/app.css" in html


def test_every_page_sends_a_content_security_policy(client, db):
    response = client.get(reverse("core:home"))

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_healthz_reports_database_redis_and_worker(client, db):
    response = client.get(reverse("core:healthz"))

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok", "worker": "ok"}


def test_static_files_are_served_by_whitenoise(client, db):
    response = client.get("/static/css/app.css")

    assert response.status_code == 200
    assert b"--brand" in b"".join(response.streaming_content)


def test_a_form_posted_without_its_csrf_token_gets_a_friendly_403(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("account_login"), {"login": "a@example.com", "password": "x"})

    assert response.status_code == 403
    assert "This form has expired" in response.text


def test_a_forbidden_page_gets_a_friendly_403(alice_client):
    from django.core.exceptions import PermissionDenied
    from django.test import override_settings
    from django.urls import include, path

    def forbidden(request):
        raise PermissionDenied

    urls = type(
        "Urls",
        (),
        {"urlpatterns": [path("forbidden/", forbidden), path("", include("config.urls"))]},
    )
    with override_settings(ROOT_URLCONF=urls):
        response = alice_client.get("/forbidden/")

    assert response.status_code == 403
    assert "You don't have access to this page" in response.text


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/account/privacy/", "Privacy"),
        ("/account/profile/", "Account"),
        ("/accounts/sessions/", "Account"),
        ("/dashboard/", "Dashboard"),
    ],
)
def test_exactly_one_menu_entry_is_the_current_page(path, current):
    from core.navigation import client_area_menu

    marked = [item.label for item in client_area_menu(path) if item.current]

    assert marked == [current]


def test_opening_a_post_only_address_gets_a_friendly_405(alice_client):
    response = alice_client.get("/billing/checkout/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert b"only answers a form" in response.content
    assert b"start page" in response.content


def test_a_405_to_head_stays_empty(alice_client):
    response = alice_client.head("/billing/checkout/")

    assert response.status_code == 405
    assert response.content == b""
