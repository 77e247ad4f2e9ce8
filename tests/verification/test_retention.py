"""Retention, erasure and key rotation of the stored pictures."""

from __future__ import annotations

import datetime as dt

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from tests.verification import files
from tests.verification.factories import CaseFactory
from verification import crypto, personal_data
from verification.models import Case, CaseStatus, Document
from verification.services import document_read, documents_submit
from verification.tasks import purge_decided_documents
from verification.uploads import clean_upload


def submit(case):
    return documents_submit(
        case=case,
        card_picture=clean_upload(files.upload("c.jpg", files.jpeg_with_gps())),
        identity_picture=clean_upload(files.upload("i.png", files.png(), "image/png")),
    )


def on_disk(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_the_purge_deletes_pictures_after_the_retention_and_keeps_the_decision(
    alice, private_storage, settings
):
    settings.VERIFICATION_DOCUMENT_RETENTION_DAYS = 30
    old = submit(CaseFactory(user=alice))
    recent = submit(CaseFactory(user=alice))
    waiting = submit(CaseFactory(user=alice))
    now = timezone.now()
    Case.objects.filter(pk=old.pk).update(
        status=CaseStatus.APPROVED, decided_at=now - dt.timedelta(days=30, minutes=1)
    )
    Case.objects.filter(pk=recent.pk).update(
        status=CaseStatus.REJECTED, decided_at=now - dt.timedelta(days=29)
    )
    Case.objects.filter(pk=waiting.pk).update(submitted_at=now - dt.timedelta(days=90))
    assert len(on_disk(private_storage)) == 6

    assert purge_decided_documents() == 2
    assert purge_decided_documents() == 0
    assert not Document.objects.filter(case=old).exists()
    assert Document.objects.filter(case__in=[recent, waiting]).count() == 4
    assert len(on_disk(private_storage)) == 4
    old.refresh_from_db()
    assert old.status == CaseStatus.APPROVED and old.documents_purged_at is not None


def test_the_purge_runs_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["verification-purge-documents"]
    assert entry["task"] == "verification.tasks.purge_decided_documents"
    assert settings.VERIFICATION_DOCUMENT_RETENTION_DAYS == 30


def test_erasing_the_account_deletes_the_pictures_at_once(alice, bob, private_storage):
    submit(CaseFactory(user=alice))
    submit(CaseFactory(user=bob))
    exported = personal_data.export(alice)
    assert exported["verification_cases"][0]["documents"][0]["kind"] == "Picture of the card"
    personal_data.erase(alice)
    assert not Case.objects.filter(user=alice).exists()
    assert Document.objects.filter(case__user=bob).count() == 2
    assert len(on_disk(private_storage)) == 2


def test_key_rotation_re_encrypts_under_the_first_key_and_old_keys_still_decrypt(
    alice, settings, private_storage
):
    old_key = settings.DOCUMENT_ENCRYPTION_KEYS[0]
    case = submit(CaseFactory(user=alice))
    before = {d.pk: (d.storage_name, document_read(document=d)) for d in case.documents.all()}
    new_key = Fernet.generate_key().decode()
    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key, old_key]
    # Before the rotation the old key, kept second, still opens every file.
    for document in case.documents.all():
        assert document.key_id == crypto.key_id(old_key)
        assert document_read(document=document) == before[document.pk][1]

    call_command("rotate_document_keys")
    for document in case.documents.all():
        assert document.key_id == crypto.key_id(new_key)
        assert document.storage_name != before[document.pk][0]
        assert document_read(document=document) == before[document.pk][1]
    assert len(on_disk(private_storage)) == 2
    # Only the new key is needed now.
    settings.DOCUMENT_ENCRYPTION_KEYS = [new_key]
    for document in case.documents.all():
        assert document_read(document=document) == before[document.pk][1]
