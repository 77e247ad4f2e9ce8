"""Who may see which verification page and document."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.verification import files
from tests.verification.factories import CaseFactory
from verification.models import CaseStatus, Document, DocumentAccess
from verification.services import documents_submit
from verification.uploads import clean_upload


@pytest.fixture
def submitted(alice_case):
    return documents_submit(
        case=alice_case,
        card_picture=clean_upload(files.upload("c.jpg", files.jpeg_with_gps())),
        identity_picture=clean_upload(files.upload("i.pdf", files.pdf())),
    )


def test_the_list_shows_each_state_in_a_constant_number_of_queries(
    alice_client, alice, django_assert_max_num_queries
):
    for status in CaseStatus.values:
        CaseFactory(
            user=alice, status=status, rejection_reason="unreadable" if status == "rejected" else ""
        )
    alice_client.get(reverse("verification:cases"))  # the first view reads the customer afresh
    with django_assert_max_num_queries(1):
        response = alice_client.get(reverse("verification:cases"))
    for label in ("Waiting for your pictures", "Under review", "Approved", "Rejected"):
        assert label in response.text


def test_a_rejected_case_shows_the_reason_and_takes_new_pictures(alice_client, alice):
    case = CaseFactory(
        user=alice,
        status=CaseStatus.REJECTED,
        rejection_reason="unreadable",
        rejection_note="Too dark.",
    )
    response = alice_client.get(reverse("verification:case", args=[case.pk]))
    assert "A picture is unreadable or blurred: Too dark." in response.text
    assert "Send the pictures" in response.text


def test_another_customer_gets_404_on_every_verification_page(client, bob, submitted):
    client.force_login(bob)
    document = submitted.documents.first()
    for url in (
        reverse("verification:case", args=[submitted.pk]),
        reverse("verification:document", args=[submitted.pk, document.pk]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("verification:case", args=[submitted.pk])).status_code == 404
    assert submitted.card_label not in client.get(reverse("verification:cases")).text


def test_the_owner_sees_their_document_inline_and_uncached(alice_client, submitted):
    document = submitted.documents.get(kind="identity")
    response = alice_client.get(reverse("verification:document", args=[submitted.pk, document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    # The customer's own views are in the access log too.
    access = DocumentAccess.objects.get()
    assert (access.viewed_by_id, access.document_id) == (submitted.user_id, document.pk)


def test_non_staff_get_the_login_page_on_the_staff_document_view(client, alice_client, submitted):
    document = submitted.documents.first()
    url = reverse("admin:verification_reviewcase_document", args=[submitted.pk, document.pk])
    response = alice_client.get(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.logout()
    assert "/admin/login/" in client.get(url)["Location"]
    assert not DocumentAccess.objects.exists()


def test_staff_see_a_document_and_every_view_is_logged(client, charlie, submitted):
    client.force_login(charlie)
    document = submitted.documents.get(kind="card")
    url = reverse("admin:verification_reviewcase_document", args=[submitted.pk, document.pk])
    responses = [client.get(url, REMOTE_ADDR="203.0.113.9") for _ in range(2)]
    assert [r.status_code for r in responses] == [200, 200]
    response = responses[-1]
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;")
    assert "no-store" in response["Cache-Control"]
    log = list(DocumentAccess.objects.order_by("pk"))
    assert len(log) == 2
    assert {(a.viewed_by_id, a.document_id, a.case_id, a.ip_address) for a in log} == {
        (charlie.pk, document.pk, submitted.pk, "203.0.113.9")
    }


def test_the_access_log_is_read_only_in_admin(client, charlie, submitted):
    client.force_login(charlie)
    document = submitted.documents.first()
    client.get(reverse("admin:verification_reviewcase_document", args=[submitted.pk, document.pk]))
    access = DocumentAccess.objects.get()
    assert client.get(reverse("admin:verification_documentaccess_changelist")).status_code == 200
    change = reverse("admin:verification_documentaccess_change", args=[access.pk])
    response = client.get(change)
    assert response.status_code == 200 and 'type="submit"' not in response.text.split("<form")[-1]
    client.post(change, {"ip_address": "198.51.100.1"})
    access.refresh_from_db()
    assert access.ip_address == "127.0.0.1"
    assert client.get(reverse("admin:verification_documentaccess_add")).status_code == 403
    delete = reverse("admin:verification_documentaccess_delete", args=[access.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Document.objects.count() == 2


def test_a_pdf_is_framed_by_the_review_page_only(client, charlie, submitted):
    client.force_login(charlie)
    document = submitted.documents.get(kind="identity")
    response = client.get(
        reverse("admin:verification_reviewcase_document", args=[submitted.pk, document.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    review = client.get(reverse("admin:verification_reviewcase_change", args=[submitted.pk]))
    assert f'<iframe src="{response.wsgi_request.path}"' in review.text


def test_the_payment_methods_page_links_the_verifications(alice_client):
    page = alice_client.get(reverse("billing:payment_methods")).text
    assert f'href="{reverse("verification:cases")}"' in page
