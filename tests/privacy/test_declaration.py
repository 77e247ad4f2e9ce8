from __future__ import annotations

import pytest
from cookie_consent.models import Cookie, CookieGroup
from django.urls import reverse

from privacy.models import CookieFacts
from privacy.selectors import cookie_declaration, declaration_version


@pytest.mark.django_db
def test_it_declares_the_four_groups_of_the_policy_in_order():
    groups = cookie_declaration()

    assert [g.varname for g in groups] == ["necessary", "functional", "performance", "advertising"]
    assert [g.required for g in groups] == [True, False, False, False]


@pytest.mark.django_db
def test_it_declares_cloudflare_google_and_stripe_cookies_with_purpose_provider_and_lifetime():
    cookies = [c for g in cookie_declaration() for c in g.cookies]
    third_party = {c.provider for c in cookies if c.third_party}

    assert third_party == {"Cloudflare", "Google", "Stripe"}
    for cookie in cookies:
        assert cookie.name and cookie.purpose and cookie.provider and cookie.lifetime, cookie


@pytest.mark.django_db
def test_the_necessary_group_holds_session_csrf_and_the_consent_choice():
    necessary = cookie_declaration()[0]

    assert {"sessionid", "csrftoken", "consent", "messages"} <= {c.name for c in necessary.cookies}


@pytest.mark.django_db
def test_the_cookie_page_lists_every_cookie_to_a_visitor_without_an_account(client):
    response = client.get(reverse("privacy:cookies"))

    html = response.content.decode()
    assert response.status_code == 200
    for cookie in Cookie.objects.select_related("facts"):
        assert f"<code>{cookie.name}</code>" in html
        assert cookie.facts.lifetime in html
    for provider in ("Cloudflare", "Google", "Stripe"):
        assert provider in html


@pytest.mark.django_db
def test_the_declaration_version_changes_when_a_cookie_is_added_or_its_lifetime_changes():
    before = declaration_version()
    group = CookieGroup.objects.get(varname="functional")
    cookie = Cookie.objects.create(cookiegroup=group, name="theme", description="Colour theme.")
    CookieFacts.objects.create(cookie=cookie, provider="OnePanel", lifetime="1 year")
    added = declaration_version()

    facts = CookieFacts.objects.get(cookie=cookie)
    facts.lifetime = "2 years"
    facts.save()

    assert len({before, added, declaration_version()}) == 3


@pytest.mark.django_db
def test_the_declaration_version_changes_when_a_purpose_changes():
    before = declaration_version()
    cookie = Cookie.objects.get(name="currency")
    cookie.description = "Remembers your currency and shares it with partners."
    cookie.save()
    purpose_changed = declaration_version()
    group = CookieGroup.objects.get(varname="performance")
    group.description = "Measure page speed and the visitor's network provider."
    group.save()

    assert len({before, purpose_changed, declaration_version()}) == 3


@pytest.mark.django_db
def test_the_cookie_page_names_the_cookies_as_this_deployment_sets_them(client, settings):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"

    necessary = {c.name for c in cookie_declaration()[0].cookies}
    html = client.get(reverse("privacy:cookies")).content.decode()

    assert {"__Host-sessionid", "__Host-csrftoken"} <= necessary
    assert not {"sessionid", "csrftoken"} & necessary
    assert "<code>__Host-sessionid</code>" in html
