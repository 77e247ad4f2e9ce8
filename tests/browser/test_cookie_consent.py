"""The cookie promises, proven in Chromium: its own cookie jar and its request log.

Pages checked: home, plans, privacy policy, terms, cookie page, sign-in, and
client-area pages (dashboard, invoices). The functional group is proven with
billing's real currency preference on the plans page.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, Request

from privacy.models import CookieConsentRecord, PageTiming
from privacy.selectors import cookie_declaration, declaration_version
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = ["/", "/plans/", "/privacy/", "/terms/", "/cookies/", "/accounts/login/"]
CLIENT_AREA_PAGES = ["/dashboard/", "/billing/invoices/"]
GOOGLE_TAG = "https://www.googletagmanager.com/**"


def necessary_patterns() -> list[str]:
    return [c.name for g in cookie_declaration() if g.varname == "necessary" for c in g.cookies]


class Watch:
    """Every request the page makes, and the browser's own cookie jar."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.urls: list[str] = []
        page.on("request", self.record)

    def record(self, request: Request) -> None:
        self.urls.append(request.url)

    def stop(self) -> None:
        self.page.remove_listener("request", self.record)

    def third_party(self) -> list[str]:
        return [u for u in self.urls if not u.startswith((self.origin, "data:", "blob:"))]

    def first_party(self, path: str) -> list[str]:
        return [u for u in self.urls if u.startswith(self.origin + path)]

    def cookie_names(self) -> set[str]:
        return {c["name"] for c in self.page.context.cookies()}

    def optional_cookies(self) -> set[str]:
        patterns = necessary_patterns()
        return {
            name
            for name in self.cookie_names()
            if not any(fnmatch.fnmatchcase(name, p) for p in patterns)
        }


def choose_currency(page: Page, currency: str) -> None:
    page.goto("/plans/")
    page.get_by_label("Show prices in").select_option(currency)
    page.get_by_role("button", name="Change currency").click()
    page.wait_for_url("**/plans/")


def sign_in(page: Page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")


def visit_everything(page: Page, user, *, expect_banner: bool) -> None:
    for path in PUBLIC_PAGES:
        page.goto(path)
        banner = page.get_by_role("region", name="Cookies on OnePanel")
        if expect_banner and path != "/cookies/":
            assert banner.is_visible(), path
        else:
            assert banner.count() == 0, path
    sign_in(page, user)
    for path in CLIENT_AREA_PAGES:
        page.goto(path)
        assert (page.get_by_role("region", name="Cookies on OnePanel").count() == 1) is (
            expect_banner
        )


@pytest.fixture
def start_watching(page, live_server) -> Iterator[Callable[[], Watch]]:
    """start_watching() starts recording the page's requests; the recording stops when the test
    ends (the page is kept for later tests, tests/browser/kept_pages.py)."""
    watches: list[Watch] = []

    def start() -> Watch:
        watches.append(Watch(page, live_server.url))
        return watches[-1]

    yield start
    for started in watches:
        started.stop()


@pytest.fixture
def google_tag(settings, page):
    """A Google tag id is configured; its script is served locally, never fetched."""
    settings.GOOGLE_TAG_ID = "G-TEST123"
    page.route(GOOGLE_TAG, lambda route: route.fulfill(body="", content_type="text/javascript"))


def test_before_a_choice_only_necessary_cookies_and_no_third_party_request(
    page, start_watching, alice, google_tag
):
    watch = start_watching()

    visit_everything(page, alice, expect_banner=True)

    assert watch.optional_cookies() == set()
    assert {"csrftoken", "sessionid"} <= watch.cookie_names()
    assert watch.third_party() == []
    assert watch.first_party("/static/privacy/measure.js") == []
    assert not CookieConsentRecord.objects.exists()


def test_the_banner_buttons_are_equal_reachable_by_keyboard_and_not_covered(page, live_server):
    page.goto("/")
    buttons = [
        page.get_by_role("button", name="Accept all"),
        page.get_by_role("button", name="Reject all"),
        page.get_by_role("link", name="Customize"),
    ]
    boxes = [b.bounding_box() for b in buttons]
    assert len({(round(b["width"]), round(b["height"])) for b in boxes}) == 1
    styles = [b.evaluate("e => getComputedStyle(e).backgroundColor") for b in buttons]
    assert len(set(styles)) == 1
    for button in buttons:
        # Nothing is painted over the button's centre: it is what a click there hits.
        hit = button.evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === e; }"
        )
        assert hit
    # Keyboard: skip link, the cookie-page link, then the three choices in order.
    focused = []
    for _ in range(5):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused[2:] == ["Accept all", "Reject all", "Customize"]


def test_after_reject_all_the_same_holds_on_every_page(page, start_watching, alice, google_tag):
    watch = start_watching()
    page.goto("/")
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_load_state()

    choose_currency(page, "GBP")
    assert page.get_by_label("Show prices in").input_value() == "GBP"  # the session keeps it

    visit_everything(page, alice, expect_banner=False)

    assert watch.optional_cookies() == set()
    assert watch.third_party() == []
    assert watch.first_party("/measure/") == []
    record = CookieConsentRecord.objects.get()
    assert record.action == "reject_all"
    assert record.answers == {"functional": False, "performance": False, "advertising": False}
    assert record.declaration_version and record.policy.version == 1 and record.ip


def test_customize_with_functional_only(page, start_watching, alice, google_tag):
    watch = start_watching()
    page.goto("/terms/")
    page.get_by_role("link", name="Customize").click()
    page.get_by_role("checkbox", name=re.compile("^Functional")).check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_load_state()

    choose_currency(page, "USD")

    visit_everything(page, alice, expect_banner=False)

    record = CookieConsentRecord.objects.get()
    assert record.action == "custom"
    assert record.answers == {"functional": True, "performance": False, "advertising": False}
    assert watch.third_party() == []
    assert watch.first_party("/static/privacy/measure.js") == []
    # The one optional cookie is the functional currency preference, and it lasts.
    assert watch.optional_cookies() == {"currency"}
    currency = next(c for c in page.context.cookies() if c["name"] == "currency")
    assert currency["value"] == "USD" and currency["expires"] > 0


def test_accept_all_turns_on_measurements_and_the_google_tag(page, start_watching, google_tag):
    watch = start_watching()
    page.goto("/")
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_load_state()

    with page.expect_request(lambda r: r.url.endswith("/measure/")):
        page.goto("/privacy/")

    record = CookieConsentRecord.objects.get()
    assert record.action == "accept_all"
    assert record.answers == {"functional": True, "performance": True, "advertising": True}
    assert record.declaration_version == declaration_version()
    assert record.policy.version == 1
    assert any(
        u.startswith("https://www.googletagmanager.com/gtag/js?id=G-TEST123") for u in watch.urls
    )
    # The beacon has left the page; its row is written once the live server has served it.
    deadline = time.monotonic() + 10
    while not PageTiming.objects.filter(path="/privacy/").exists():
        assert time.monotonic() < deadline, "the page timing beacon was never recorded"
        time.sleep(0.05)


def test_a_change_of_mind_from_the_footer_stops_everything_at_once(
    page, start_watching, alice, google_tag
):
    page.goto("/")
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_load_state()
    # A functional cookie set while it was allowed (billing's currency preference).
    choose_currency(page, "GBP")
    assert "currency" in {c["name"] for c in page.context.cookies()}

    page.get_by_role("navigation", name="Legal").get_by_role("link", name="Cookie settings").click()
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_load_state()
    watch = start_watching()

    visit_everything(page, alice, expect_banner=False)

    first, second = CookieConsentRecord.objects.order_by("id")
    assert (first.action, second.action) == ("accept_all", "reject_all")
    assert first.visitor_id == second.visitor_id
    assert "currency" not in watch.cookie_names()
    assert watch.third_party() == []
    assert watch.first_party("/measure/") == []


def test_the_banner_works_without_javascript(no_js_page, live_server):
    no_js_page.goto("/privacy/")
    no_js_page.get_by_role("button", name="Reject all").click()

    assert no_js_page.url == live_server.url + "/privacy/"
    assert no_js_page.get_by_role("region", name="Cookies on OnePanel").count() == 0
    assert CookieConsentRecord.objects.get().action == "reject_all"

    no_js_page.goto("/cookies/")
    no_js_page.get_by_role("checkbox", name=re.compile("^Performance")).check()
    no_js_page.get_by_role("button", name="Save my choices").click()
    assert CookieConsentRecord.objects.order_by("-id").first().answers == {
        "functional": False,
        "performance": True,
        "advertising": False,
    }
