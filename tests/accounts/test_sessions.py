from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
LINUX_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


def _sign_in(user_agent: str, ip: str, email: str = "alice@example.com") -> Client:
    browser = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = browser.post(
        reverse("account_login"), {"login": email, "password": "correct-horse-battery-staple"}
    )
    assert response.status_code == 302
    return browser


def test_it_lists_each_session_with_browser_system_device_and_ip(alice):
    phone = _sign_in(IPHONE, "203.0.113.7")
    _sign_in(LINUX_CHROME, "198.51.100.20")

    html = phone.get(reverse("usersessions_list")).content.decode()

    assert "Mobile Safari 17" in html
    assert "iOS 17.0" in html
    assert "Phone" in html
    assert "203.0.113.7" in html
    assert "Chrome 156" in html
    assert "Linux" in html
    assert "Computer" in html
    assert "198.51.100.20" in html
    assert "This browser" in html


def test_signing_out_other_sessions_keeps_the_current_one(alice):
    phone = _sign_in(IPHONE, "203.0.113.7")
    desktop = _sign_in(LINUX_CHROME, "198.51.100.20")

    response = phone.post(reverse("usersessions_list"))

    assert response.status_code == 302
    assert UserSession.objects.filter(user=alice).count() == 1
    assert phone.get(reverse("core:dashboard")).status_code == 200
    assert desktop.get(reverse("core:dashboard")).status_code == 302


def _queries_for_sessions_page(browser: Client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser.get(reverse("usersessions_list"))  # reads the customer afresh after a sign-in
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(reverse("usersessions_list")).status_code == 200
    return len(captured)


def test_the_sessions_page_query_count_does_not_grow_with_sessions(alice):
    browser = _sign_in(IPHONE, "203.0.113.7")
    _sign_in(LINUX_CHROME, "198.51.100.1")
    with_two = _queries_for_sessions_page(browser)
    for n in range(2, 7):
        _sign_in(LINUX_CHROME, f"198.51.100.{n}")

    assert _queries_for_sessions_page(browser) == with_two


def test_behind_a_trusted_proxy_the_customers_address_is_recorded(alice, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    browser = Client(
        HTTP_USER_AGENT=LINUX_CHROME,
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )

    browser.post(
        reverse("account_login"), {"login": alice.email, "password": "correct-horse-battery-staple"}
    )

    assert UserSession.objects.get(user=alice).ip == "203.0.113.50"


def test_the_nightly_cleanup_drops_the_ip_and_browser_of_ended_sessions(alice):
    from accounts.tasks import clear_expired_sessions

    phone = _sign_in(IPHONE, "203.0.113.7")
    laptop = _sign_in(LINUX_CHROME, "198.51.100.20")
    laptop.post(reverse("account_logout"))  # allauth keeps its row until the page is opened
    assert UserSession.objects.filter(ip="198.51.100.20").exists()

    clear_expired_sessions.delay()

    assert list(UserSession.objects.values_list("ip", flat=True)) == ["203.0.113.7"]
    assert phone.get(reverse("core:dashboard")).status_code == 200


def test_only_the_first_thousand_characters_of_a_user_agent_are_parsed(monkeypatch):
    from accounts import useragent

    seen: list[int] = []
    real_parse = useragent.parse  # type: ignore[attr-defined]  # the module's own import

    def counting_parse(ua: str) -> object:
        seen.append(len(ua))
        return real_parse(ua)

    monkeypatch.setattr(useragent, "parse", counting_parse)
    useragent.describe.cache_clear()

    client = useragent.describe(LINUX_CHROME + " x" * 50_000)

    assert seen == [1000]
    assert client.browser.startswith("Chrome")
