"""The upload page: what a customer may send, and what is stored of it."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from tests.verification import files
from verification import crypto
from verification.models import CaseStatus, Document, DocumentKind
from verification.services import document_read
from verification.storage import document_storage


def send(client, case, card: bytes, identity: bytes, card_name: str = "card.jpg"):
    return client.post(
        reverse("verification:case", args=[case.pk]),
        {
            "card_picture": files.upload(card_name, card),
            "identity_picture": files.upload("id.png", identity, "image/png"),
        },
    )


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_page_says_the_card_digits_may_be_covered(alice_client, alice_case):
    response = alice_client.get(reverse("verification:case", args=[alice_case.pk]))
    assert response.status_code == 200
    assert "You may cover the middle digits of the card number" in response.text
    assert "Waiting for your pictures" in response.text


def test_a_jpeg_with_gps_comes_out_without_its_exif(alice_client, alice_case, private_storage):
    original = files.jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # GPS is really there
    response = send(alice_client, alice_case, original, files.png())
    assert response.status_code == 302
    alice_case.refresh_from_db()
    assert alice_case.status == CaseStatus.UNDER_REVIEW
    card = Document.objects.get(case=alice_case, kind=DocumentKind.CARD)
    clean = document_read(document=card)
    image = Image.open(io.BytesIO(clean))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not image.getexif()
    assert b"PhoneCam" not in clean and b"Exif" not in clean
    assert card.content_type == "image/jpeg"


def test_the_stored_bytes_are_encrypted_under_a_random_name(
    alice_client, alice_case, private_storage
):
    send(alice_client, alice_case, files.jpeg_with_gps(), files.png())
    documents = list(Document.objects.filter(case=alice_case))
    assert len(documents) == 2
    on_disk = stored_files(private_storage)
    assert len(on_disk) == 2
    for document in documents:
        raw = (private_storage / document.storage_name).read_bytes()
        plain = document_read(document=document)
        assert raw != plain
        assert b"\xff\xd8\xff" not in raw[:16] and b"PNG" not in raw
        assert document.key_id == crypto.current_key_id()
        assert (
            "card" not in document.storage_name
            and "id" not in document.storage_name.split("/")[-1][:2]
        )
    with pytest.raises(NotImplementedError):
        document_storage().url(documents[0].storage_name)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (files.windows_executable(), "holiday.jpg", "Only JPEG, PNG or PDF files are accepted"),
        (files.jpeg_zip_polyglot(), "card.jpg", "carries other data after the picture"),
        (files.png_bomb(), "card.png", "too many pixels"),
        (files.pdf(javascript=True), "card.pdf", "contains JavaScript"),
        (files.pdf(attachment=True), "card.pdf", "attached files"),
        (files.pdf_with_open_action(), "card.pdf", "actions"),
        (b"%PDF-1.7\nnot really a pdf\n%%EOF", "card.pdf", "could not be read"),
    ],
    ids=[
        "renamed-exe",
        "polyglot",
        "bomb",
        "pdf-js",
        "pdf-attachment",
        "pdf-openaction",
        "pdf-broken",
    ],
)
def test_a_refused_file_is_a_field_error_and_nothing_is_stored(
    alice_client, alice_case, private_storage, content, name, message
):
    response = send(alice_client, alice_case, content, files.png(), card_name=name)
    assert response.status_code == 400
    assert message in response.text
    assert not Document.objects.exists()
    assert stored_files(private_storage) == []
    alice_case.refresh_from_db()
    assert alice_case.status == CaseStatus.AWAITING_DOCUMENTS


def test_a_file_over_the_size_limit_is_refused(alice_client, alice_case, private_storage, settings):
    settings.VERIFICATION_MAX_UPLOAD_BYTES = 2000
    response = send(alice_client, alice_case, files.jpeg_with_gps() + b"\x00" * 3000, files.png())
    assert response.status_code == 400
    assert "The file is larger than" in response.text
    assert stored_files(private_storage) == []


def test_the_default_size_limit_is_ten_megabytes(settings):
    assert settings.VERIFICATION_MAX_UPLOAD_BYTES == 10 * 1024 * 1024


def test_a_plain_pdf_is_kept_as_sent(alice_client, alice_case):
    document = files.pdf()
    response = alice_client.post(
        reverse("verification:case", args=[alice_case.pk]),
        {
            "card_picture": files.upload("card.jpg", files.jpeg_with_gps()),
            "identity_picture": files.upload("passport.bin", document, "application/octet-stream"),
        },
    )
    assert response.status_code == 302
    stored = Document.objects.get(kind=DocumentKind.IDENTITY)
    assert stored.content_type == "application/pdf"
    assert document_read(document=stored) == document


def test_the_type_is_decided_by_content_not_by_name(alice_client, alice_case):
    response = send(alice_client, alice_case, files.png(), files.png(), card_name="card.pdf")
    assert response.status_code == 302
    assert Document.objects.get(kind=DocumentKind.CARD).content_type == "image/png"
