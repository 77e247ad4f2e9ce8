from __future__ import annotations

import re
from typing import Any, cast

import pytest
from cookie_consent.models import Cookie, CookieGroup
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from core.consent import NO_CHOICE, OPTIONAL_GROUPS, ConsentRequest, ConsentState, has_consent
from privacy import consent
from privacy.middleware import ConsentMiddleware
from privacy.models import CookieConsentRecord, CookieFacts
from privacy.selectors import current_documents, declaration_version
from tests.factories import TEST_PASSWORD

BANNER = "Cookies on OnePanel"


def choose(client, **data):
    return client.post(reverse("privacy:consent"), data)


@pytest.mark.django_db
def test_a_first_visit_shows_accept_reject_and_customize_side_by_side(client):
    html = client.get(reverse("core:home")).content.decode()

    assert BANNER in html
    banner = html[html.index("consent-banner") : html.index("</section>")]
    buttons = re.findall(r'class="button"[^>]*>([^<]+)<', banner)
    assert buttons == ["Accept all", "Reject all", "Customize"]
    # Plain forms: no JavaScript needed to choose.
    assert 'method="post"' in banner and "<script" not in banner


@pytest.mark.django_db
def test_accept_all_records_every_group_with_versions_and_ip_and_hides_the_banner(client):
    response = choose(client, choice="accept_all", next="/terms/")

    assert response.status_code == 302 and response["Location"] == "/terms/"
    record = CookieConsentRecord.objects.get()
    assert record.action == "accept_all"
    assert record.answers == {"functional": True, "performance": True, "advertising": True}
    assert record.declaration_version == declaration_version()
    assert record.policy == current_documents().privacy
    assert record.ip == "127.0.0.1"
    assert record.user is None and len(record.visitor_id) == 32
    assert BANNER not in client.get(reverse("core:home")).content.decode()


@pytest.mark.django_db
def test_reject_all_records_no_optional_group(client):
    choose(client, choice="reject_all")

    record = CookieConsentRecord.objects.get()
    assert record.answers == {"functional": False, "performance": False, "advertising": False}
    assert BANNER not in client.get(reverse("core:home")).content.decode()


@pytest.mark.django_db
def test_a_per_group_choice_keeps_only_the_ticked_groups(client):
    choose(client, choice="custom", functional="on", advertising="on")

    record = CookieConsentRecord.objects.get()
    assert record.answers == {"functional": True, "performance": False, "advertising": True}


@pytest.mark.django_db
def test_a_change_of_mind_keeps_the_visitor_id_and_adds_a_ledger_row(client):
    choose(client, choice="accept_all")
    choose(client, choice="reject_all")

    first, second = CookieConsentRecord.objects.order_by("id")
    assert first.visitor_id == second.visitor_id
    assert (first.action, second.action) == ("accept_all", "reject_all")


@pytest.mark.django_db
def test_a_signed_in_customers_choice_is_recorded_against_the_customer(alice_client, alice):
    choose(alice_client, choice="custom", performance="on")

    assert CookieConsentRecord.objects.get().user == alice


@pytest.mark.django_db
def test_an_unknown_choice_is_refused_with_a_reason_and_records_nothing(client):
    response = choose(client, choice="everything")

    assert response.status_code == 400
    assert "Choose one of the buttons" in response.content.decode()
    assert not CookieConsentRecord.objects.exists()


@pytest.mark.django_db
def test_it_never_redirects_to_another_site_after_a_choice(client):
    response = choose(client, choice="reject_all", next="https://evil.example/")

    assert response["Location"] == reverse("privacy:cookies")


def _request_with_cookie(value: str):
    request = RequestFactory().get("/")
    request.COOKIES["consent"] = value
    return request


@pytest.mark.django_db
def test_a_choice_older_than_twelve_months_is_asked_again():
    thirteen_months = 395 * 24 * 60 * 60 * 1000
    fresh = consent.encode(
        visitor_id="a" * 32,
        accepted=frozenset({"functional"}),
        version=declaration_version(),
        chosen_at=consent.now_ms(),
    )
    stale = consent.encode(
        visitor_id="a" * 32,
        accepted=frozenset({"functional"}),
        version=declaration_version(),
        chosen_at=consent.now_ms() - thirteen_months,
    )

    assert consent.read(_request_with_cookie(fresh)).allows("functional")
    state = consent.read(_request_with_cookie(stale))
    assert not state.chosen and not state.allows("functional")


@pytest.mark.django_db
def test_a_choice_made_against_an_older_declaration_is_asked_again(client):
    choose(client, choice="accept_all")
    cookie = Cookie.objects.create(
        cookiegroup=CookieGroup.objects.get(varname="advertising"), name="_fbp"
    )
    CookieFacts.objects.create(cookie=cookie, provider="Meta", lifetime="90 days", third_party=True)

    html = client.get(reverse("core:home")).content.decode()

    assert BANNER in html


@pytest.mark.django_db
def test_a_hand_edited_consent_cookie_counts_as_no_choice():
    forged = signing.dumps({"v": "x", "g": "functional", "d": "", "t": 0}, salt="other")

    assert consent.read(_request_with_cookie(forged)) == NO_CHOICE
    assert consent.read(_request_with_cookie("garbage")) == NO_CHOICE


def test_has_consent_is_false_without_privacys_middleware_and_true_for_necessary():
    request = cast(ConsentRequest, RequestFactory().get("/"))

    assert has_consent(request, "necessary")
    assert not has_consent(request, "functional")
    request.consent = ConsentState(chosen=True, accepted=frozenset({"functional"}))
    assert has_consent(request, "functional")
    with pytest.raises(ValueError):
        has_consent(request, "marketing")


def _through_middleware(request, set_cookies=()):
    def view(request):
        response = HttpResponse("ok")
        for name in set_cookies:
            response.set_cookie(name, "x")
        return response

    return ConsentMiddleware(view)(request)


@pytest.mark.django_db
def test_the_server_drops_a_functional_cookie_without_functional_consent():
    response = _through_middleware(RequestFactory().get("/"), set_cookies=["currency"])

    assert "currency" not in response.cookies


@pytest.mark.django_db
def test_the_server_lets_a_functional_cookie_through_with_functional_consent():
    value = consent.encode(
        visitor_id="b" * 32,
        accepted=frozenset({"functional"}),
        version=declaration_version(),
        chosen_at=consent.now_ms(),
    )
    request = _request_with_cookie(value)

    response = _through_middleware(request, set_cookies=["currency", "_ga"])

    assert response.cookies["currency"].value == "x"
    assert "_ga" not in response.cookies


@pytest.mark.django_db
def test_the_server_expires_optional_cookies_the_browser_still_holds_after_a_refusal():
    value = consent.encode(
        visitor_id="c" * 32,
        accepted=frozenset(),
        version=declaration_version(),
        chosen_at=consent.now_ms(),
    )
    request = _request_with_cookie(value)
    request.COOKIES.update({"currency": "EUR", "_ga_ABC123": "GA1", "csrftoken": "t"})

    response = _through_middleware(request)

    assert response.cookies["currency"]["max-age"] == 0
    assert response.cookies["_ga_ABC123"]["max-age"] == 0
    assert "csrftoken" not in response.cookies


@pytest.mark.django_db
def test_pages_tell_shared_caches_they_vary_with_cookies(client):
    response = client.get(reverse("privacy:policy"))

    assert "Cookie" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url", ["dashboard", "privacy:index", "javascript:x", "//evil", "/\\evil"]
)
def test_a_next_that_is_not_a_path_here_leads_to_the_cookie_page(client, next_url):
    response = choose(client, choice="reject_all", next=next_url)

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:cookies")


@pytest.mark.django_db
def test_a_next_path_on_this_site_is_followed(client):
    response = choose(client, choice="reject_all", next="/plans/?currency=EUR")

    assert response["Location"] == "/plans/?currency=EUR"


@pytest.mark.django_db
def test_the_server_drops_a_cookie_nobody_declared_even_after_accept_all(caplog):
    value = consent.encode(
        visitor_id="d" * 32,
        accepted=frozenset(OPTIONAL_GROUPS),
        version=declaration_version(),
        chosen_at=consent.now_ms(),
    )
    request = _request_with_cookie(value)

    response = _through_middleware(request, set_cookies=["tracker", "currency"])

    assert "tracker" not in response.cookies
    assert response.cookies["currency"].value == "x"
    assert "cookie 'tracker': it is not in the cookie declaration" in caplog.text


@pytest.mark.django_db
def test_one_address_cannot_flood_the_consent_ledger(client, monkeypatch):
    monkeypatch.setattr("privacy.views.CHOICES_PER_MINUTE", 3)

    statuses = [choose(client, choice="reject_all").status_code for _ in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert CookieConsentRecord.objects.count() == 3


@pytest.mark.django_db
def test_withdrawals_share_the_ceiling_on_ledger_writes(alice_client, monkeypatch):
    monkeypatch.setattr("privacy.views.CHOICES_PER_MINUTE", 2)
    withdraw = reverse("privacy:withdraw")

    statuses = [alice_client.post(withdraw, {"group": "all"}).status_code for _ in range(3)]

    assert statuses == [302, 302, 429]
    assert CookieConsentRecord.objects.count() == 2


@pytest.mark.django_db
def test_a_malformed_choice_says_what_could_not_be_read(client):
    response = choose(client, choice="reject_all", next="/" + "x" * 2500)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Your choice could not be read" in html and "at most 2000 characters" in html
    assert not CookieConsentRecord.objects.exists()


def _cookie_data(client) -> dict[str, Any]:
    data = consent._decode(client.cookies["consent"].value)
    assert data is not None
    return data


def test_signing_out_gives_the_browser_a_new_visitor_id_with_the_same_choice(client, alice):
    client.post(reverse("account_login"), {"login": alice.email, "password": TEST_PASSWORD})
    choose(client, choice="custom", functional="on")
    before = _cookie_data(client)

    response = client.post(reverse("account_logout"))

    after = consent._decode(response.cookies["consent"].value)
    assert after is not None
    assert after["v"] != before["v"]
    assert (after["g"], after["d"], after["t"]) == (before["g"], before["d"], before["t"])
    # The next person's choices are not linked to alice's in the ledger.
    choose(client, choice="reject_all")
    alice_row, next_row = CookieConsentRecord.objects.order_by("id")
    assert alice_row.user == alice
    assert next_row.user is None
    assert next_row.visitor_id != alice_row.visitor_id


@pytest.mark.django_db
def test_signing_out_without_a_choice_sets_no_consent_cookie(client, alice):
    client.force_login(alice)

    response = client.post(reverse("account_logout"))

    assert "consent" not in response.cookies
