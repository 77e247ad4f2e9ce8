from __future__ import annotations

import pytest
from cookie_consent.models import Cookie
from django.urls import reverse

from privacy.models import CookieConsentRecord
from privacy.services import session_record_create


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [
        "admin:privacy_cookieconsentrecord_changelist",
        "admin:privacy_documentacceptance_changelist",
        "admin:privacy_sessionrecord_changelist",
        "admin:privacy_pagevisit_changelist",
        "admin:privacy_legaldocument_changelist",
        "admin:privacy_legaldocument_add",
        "admin:cookie_consent_cookie_changelist",
        "admin:cookie_consent_cookiegroup_changelist",
    ],
)
def test_staff_open_every_privacy_admin_page(client, charlie, alice, name):
    client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    session_record_create(
        user=alice, session_key="k", ip="192.0.2.1", user_agent="", secure=True, protocol="HTTP/2"
    )
    client.force_login(charlie)

    assert client.get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_staff_edit_a_cookies_provider_and_lifetime_next_to_the_packages_fields(client, charlie):
    cookie = Cookie.objects.get(name="_ga")
    client.force_login(charlie)

    html = client.get(reverse("admin:cookie_consent_cookie_change", args=[cookie.pk])).content
    html = html.decode()

    assert 'name="facts-0-provider"' in html and 'value="Google"' in html
    assert 'name="facts-0-lifetime"' in html


@pytest.mark.django_db
def test_staff_read_the_ledger_in_admin_but_cannot_add_edit_or_delete_a_record(client, charlie):
    client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    record = CookieConsentRecord.objects.get()
    client.force_login(charlie)
    change_url = reverse("admin:privacy_cookieconsentrecord_change", args=[record.pk])
    changelist = reverse("admin:privacy_cookieconsentrecord_changelist")

    # Staff can read the record (so the refusals below are about writing, not access)...
    page = client.get(change_url)
    assert page.status_code == 200
    assert record.visitor_id in page.text
    # ...but cannot add one, save a change, or delete one, alone or from the list.
    assert client.get(reverse("admin:privacy_cookieconsentrecord_add")).status_code == 403
    edit = client.post(change_url, {"action": "reject_all", "functional": "", "ip": "192.0.2.9"})
    assert edit.status_code == 403
    delete_url = reverse("admin:privacy_cookieconsentrecord_delete", args=[record.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"}
    )
    assert bulk.status_code == 200  # the list again: the action is not offered
    assert "delete_selected" not in client.get(changelist).text

    unchanged = CookieConsentRecord.objects.get()
    assert (unchanged.pk, unchanged.action, unchanged.ip) == (record.pk, record.action, record.ip)


@pytest.mark.django_db
def test_a_new_version_in_admin_starts_from_the_latest_one(client, charlie):
    client.force_login(charlie)

    html = client.get(reverse("admin:privacy_legaldocument_add") + "?kind=terms").content
    html = html.decode()

    assert 'name="version" value="2"' in html
    assert "These terms govern your use" in html


def _add_rows(model: str, n: int) -> None:
    import datetime
    import uuid

    from cookie_consent.models import CookieGroup
    from django.utils import timezone

    from privacy.models import (
        CookieConsentRecord,
        CookieFacts,
        DocumentAcceptance,
        LegalDocument,
        PageTiming,
        PageVisit,
    )
    from tests.factories import UserFactory

    today = timezone.localdate()
    policy = LegalDocument.objects.get(kind="privacy", version=1)
    for _ in range(n):
        tag = uuid.uuid4().hex[:8]
        if model == "cookieconsentrecord":
            CookieConsentRecord.objects.create(
                visitor_id=tag,
                user=UserFactory(),
                action="accept_all",
                functional=True,
                performance=True,
                advertising=True,
                declaration_version="x",
                policy=policy,
            )
        elif model == "documentacceptance":
            DocumentAcceptance.objects.create(user=UserFactory(), document=policy, source="signup")
        elif model == "sessionrecord":
            session_record_create(
                user=UserFactory(),
                session_key=tag,
                ip=None,
                user_agent="",
                secure=True,
                protocol="",
            )
        elif model == "pagevisit":
            PageVisit.objects.create(path="/", from_path="/plans/", recorded_on=today)
        elif model == "pagetiming":
            PageTiming.objects.create(
                path="/", ttfb_ms=1, dom_ready_ms=2, load_ms=3, recorded_on=today
            )
        elif model == "legaldocument":
            latest = LegalDocument.objects.filter(kind="terms").order_by("-version").first()
            LegalDocument.objects.create(
                kind="terms",
                version=latest.version + 1,
                title="Terms",
                body="x",
                change_summary="y",
                effective_date=today + datetime.timedelta(days=1),
            )
        elif model == "cookie":
            group = CookieGroup.objects.get(varname="functional")
            cookie = Cookie.objects.create(cookiegroup=group, name=f"c{tag}")
            CookieFacts.objects.create(cookie=cookie, provider="OnePanel", lifetime="1 day")
        elif model == "cookiegroup":
            group = CookieGroup.objects.create(varname=f"g{tag}", name=tag, description="z")
            Cookie.objects.create(cookiegroup=group, name=f"c{tag}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("app", "model"),
    [
        ("privacy", "cookieconsentrecord"),
        ("privacy", "documentacceptance"),
        ("privacy", "sessionrecord"),
        ("privacy", "pagevisit"),
        ("privacy", "pagetiming"),
        ("privacy", "legaldocument"),
        ("cookie_consent", "cookie"),
        ("cookie_consent", "cookiegroup"),
    ],
)
def test_every_privacy_changelist_makes_the_same_queries_for_few_rows_or_many(
    client, charlie, app, model
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(charlie)
    url = reverse(f"admin:{app}_{model}_changelist")
    _add_rows(model, 1)
    client.get(url)  # warms the session and caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len([q for q in captured if "usersessions_usersession" not in q["sql"]])

    few = queries()
    _add_rows(model, 4)

    assert queries() == few


@pytest.mark.django_db
def test_not_even_a_superuser_deletes_consent_or_acceptance_records_in_admin(client, charlie):
    from privacy.models import CookieConsentRecord, DocumentAcceptance, LegalDocument

    client.post(reverse("privacy:consent"), {"choice": "accept_all"})
    record = CookieConsentRecord.objects.get()
    policy = LegalDocument.objects.get(kind="privacy", version=1)
    acceptance = DocumentAcceptance.objects.create(user=charlie, document=policy, source="signup")
    client.force_login(charlie)

    for name, pk in (
        ("admin:privacy_cookieconsentrecord_delete", record.pk),
        ("admin:privacy_documentacceptance_delete", acceptance.pk),
    ):
        assert client.post(reverse(name, args=[pk]), {"post": "yes"}).status_code == 403
    assert CookieConsentRecord.objects.exists() and DocumentAcceptance.objects.exists()
