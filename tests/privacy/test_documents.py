from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.sites import site
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ApplicationError
from notifications.models import OutboxMessage
from privacy.models import DocumentAcceptance, LegalDocument
from privacy.services import document_publish
from tests.helpers import draft


def publish(document, capture):
    with capture(execute=True):
        assert document_publish(document=document)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/privacy/", "/terms/"])
def test_the_policy_and_terms_show_the_last_revision_date_at_the_top(client, url):
    document = LegalDocument.objects.get(kind=url.strip("/"), version=1)

    html = client.get(url).content.decode()

    top = html[html.index("<h1>") : html.index("What changed")]
    assert "Last revision:" in top
    assert document.published_at.strftime("%Y-%m-%d") in top


@pytest.mark.django_db
def test_a_new_version_becomes_current_and_the_earlier_one_stays_linked(
    client, django_capture_on_commit_callbacks
):
    publish(draft(), django_capture_on_commit_callbacks)

    current = client.get("/privacy/").content.decode()
    earlier = client.get("/privacy/v1/")

    assert "We changed things." in current
    assert 'href="/privacy/v1/"' in current
    assert earlier.status_code == 200
    assert "This is an earlier version" in earlier.content.decode()


@pytest.mark.django_db
def test_an_unpublished_version_is_not_shown(client):
    draft()

    assert client.get("/privacy/v2/").status_code == 404
    assert "We changed things." not in client.get("/privacy/").content.decode()


@pytest.mark.django_db
def test_markdown_from_staff_is_sanitised(client, django_capture_on_commit_callbacks):
    body = (
        "Hello <script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[link](javascript:alert(3)) [ok](https://example.com/)"
    )
    publish(draft(body=body), django_capture_on_commit_callbacks)

    html = client.get("/privacy/").content.decode()
    article = html[html.index("<article") : html.index("</article>")]

    assert "<script>alert" not in article and "onerror" not in article
    assert "javascript:" not in article
    assert 'href="https://example.com/"' in article


@pytest.mark.django_db
def test_publishing_twice_is_a_no_op_and_an_older_number_is_refused(
    django_capture_on_commit_callbacks,
):
    document = draft()
    publish(document, django_capture_on_commit_callbacks)

    assert document_publish(document=document) is False
    older = draft(version=0)
    with pytest.raises(ApplicationError, match="not newer"):
        document_publish(document=older)
    older.refresh_from_db()
    assert not older.is_published


@pytest.mark.django_db
def test_a_customer_sees_the_notice_at_the_next_visit_until_they_accept(
    alice, django_capture_on_commit_callbacks
):
    browser = Client()
    browser.force_login(alice)
    assert "We have updated our" not in browser.get(reverse("core:dashboard")).content.decode()
    document = draft()
    publish(document, django_capture_on_commit_callbacks)

    html = browser.get(reverse("core:dashboard")).content.decode()
    assert "We have updated our privacy policy" in html
    assert "We now keep sign-in data for 90 days." in html
    assert "We have updated our" in browser.get(reverse("privacy:cookies")).content.decode()

    response = browser.post(
        reverse("privacy:acknowledge"), {"documents": str(document.pk), "next": "/dashboard/"}
    )

    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    acceptance = DocumentAcceptance.objects.get(user=alice, document=document)
    assert acceptance.source == "notice" and acceptance.ip == "127.0.0.1"
    assert "We have updated our" not in browser.get(reverse("core:dashboard")).content.decode()


@pytest.mark.django_db
def test_a_customer_who_joined_after_the_version_sees_no_notice(
    django_capture_on_commit_callbacks,
):
    from tests.factories import UserFactory

    publish(draft(), django_capture_on_commit_callbacks)
    newcomer = UserFactory(date_joined=timezone.now() + datetime.timedelta(seconds=1))
    browser = Client()
    browser.force_login(newcomer)

    assert "We have updated our" not in browser.get(reverse("core:dashboard")).content.decode()


@pytest.mark.django_db
def test_accepting_a_draft_or_garbage_is_refused(alice_client):
    document = draft()

    assert alice_client.post(reverse("privacy:acknowledge"), {"documents": "x"}).status_code == 400
    response = alice_client.post(reverse("privacy:acknowledge"), {"documents": str(document.pk)})
    assert response.status_code == 400
    assert not DocumentAcceptance.objects.exists()


@pytest.mark.django_db
def test_staff_publish_from_admin_and_a_published_version_becomes_read_only(
    charlie, client, django_capture_on_commit_callbacks
):
    client.force_login(charlie)
    document = draft()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:privacy_legaldocument_changelist"),
            {"action": "publish", "_selected_action": [document.pk]},
        )

    assert response.status_code == 302
    document.refresh_from_db()
    assert document.is_published
    admin = site._registry[LegalDocument]
    request = RequestFactory().get("/")
    assert "body" in admin.get_readonly_fields(request, document)
    assert not admin.has_delete_permission(request, document)


@pytest.mark.django_db
def test_publishing_emails_every_active_customer_who_joined_before_it(
    alice, bob, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory

    UserFactory(email="gone@example.com", is_active=False)
    document = draft()
    mail.outbox.clear()

    publish(document, django_capture_on_commit_callbacks)

    rows = OutboxMessage.objects.filter(kind="privacy-document-published")
    assert sorted(rows.values_list("recipient", flat=True)) == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    message = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert message.subject.endswith("Our privacy policy has changed (version 2)")
    assert "We now keep sign-in data for 90 days." in message.body
    assert "http://127.0.0.1:8000/privacy/v2/" in message.body
    assert "Hello Alice," in message.body


@pytest.mark.django_db
def test_a_revision_reaches_a_customer_and_is_accepted_again(
    alice, django_capture_on_commit_callbacks
):
    browser = Client()
    browser.force_login(alice)
    document = draft(kind="terms", version=2)
    mail.outbox.clear()

    publish(document, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "updated our terms of service" in browser.get("/dashboard/").content.decode()
    browser.post(reverse("privacy:acknowledge"), {"documents": str(document.pk)})

    assert DocumentAcceptance.objects.filter(user=alice, document=document).exists()
    assert "We have updated our" not in browser.get("/dashboard/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/privacy/v99999999999999/", "/terms/v0/", "/terms/v7/"])
def test_a_made_up_version_number_is_a_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("documents", ["99999999999999999999999", "-1", "", "1,,x"])
def test_a_made_up_document_list_is_refused(alice_client, documents):
    response = alice_client.post(reverse("privacy:acknowledge"), {"documents": documents})

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_next_that_is_not_a_path_after_accepting_is_not_a_500(alice_client):
    document = LegalDocument.objects.get(kind="privacy", version=1)

    response = alice_client.post(
        reverse("privacy:acknowledge"), {"documents": str(document.pk), "next": "dashboard"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy:cookies")


def test_a_top_level_heading_from_staff_stays_a_heading_below_the_page_title():
    from privacy.rendering import render_markdown

    html = render_markdown("# Who we are\n\n## Contact\n\nText.")

    assert "<h2>Who we are</h2>" in html and "<h2>Contact</h2>" in html
    assert "<h1" not in html
