"""docs/scaling.md's switch to S3-compatible storage, run against an S3 endpoint on
loopback: moto's server (a real HTTP S3 API) stands in for the bucket, django-storages
and boto3 talk to it as they would to MinIO or AWS."""

from __future__ import annotations

import json
import os
import socket

import pytest
from django.core.files.storage import storages

from support import services
from support.files import check_attachment
from support.models import Attachment, Department
from tests.commands import run_python
from tests.helpers import PDF_BYTES
from tests.verification import files
from tests.verification.factories import CaseFactory
from verification.models import Document
from verification.services import document_read, documents_submit
from verification.uploads import clean_upload

ACCESS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto's


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint():
    # Imported here, not at the top: moto's server (Flask, werkzeug, moto's S3 backend) and
    # boto3 cost each pytest-xdist worker 0.15 s of CPU at collection, and only the worker
    # that runs these tests needs them.
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def buckets(s3_endpoint, settings, monkeypatch):
    """The storages of docs/scaling.md on S3: attachments and documents in private
    buckets of their own, signed links only."""
    import boto3

    for name, value in ACCESS.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **_keys())
    for bucket in ("onepanel-attachments", "onepanel-documents"):
        client.create_bucket(Bucket=bucket)
    storages = {key: dict(value) for key, value in settings.STORAGES.items()}
    for alias, bucket in (
        ("support_attachments", "onepanel-attachments"),
        ("verification", "onepanel-documents"),
    ):
        storages[alias] = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
    settings.STORAGES = storages  # the setting_changed signal resets the storages handler
    yield client
    for bucket in ("onepanel-attachments", "onepanel-documents"):
        for found in client.list_objects_v2(Bucket=bucket).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=found["Key"])
        client.delete_bucket(Bucket=bucket)


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": ACCESS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": ACCESS["AWS_SECRET_ACCESS_KEY"],
    }


def _keys_in(client, bucket: str) -> list[str]:
    return [found["Key"] for found in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_ticket_attachment_is_stored_in_the_bucket_and_read_back(alice, buckets, monkeypatch):
    # The field calls its storage callable once, when the model loads (at start-up in
    # production, with the environment's STORAGES); here it loaded before the switch.
    field = Attachment._meta.get_field("file")
    monkeypatch.setattr(field, "storage", storages["support_attachments"])
    ticket = services.ticket_open(
        user=alice,
        department=Department.objects.get(slug="support"),
        subject="Invoice question",
        body="See the file.",
        files=[check_attachment(name="a.pdf", content=PDF_BYTES)],
    )

    attachment = Attachment.objects.get(message__ticket=ticket)
    assert _keys_in(buckets, "onepanel-attachments") == [attachment.file.name]
    stored = buckets.get_object(Bucket="onepanel-attachments", Key=attachment.file.name)
    assert stored["Body"].read() == PDF_BYTES
    attachment.refresh_from_db()
    with attachment.file.open("rb") as handle:  # read back through django-storages
        assert handle.read() == PDF_BYTES


def test_identity_documents_reach_the_bucket_encrypted_and_decrypt_back(alice, buckets):
    picture = files.png()
    case = documents_submit(
        case=CaseFactory(user=alice),
        card_picture=clean_upload(files.upload("c.jpg", files.jpeg_with_gps())),
        identity_picture=clean_upload(files.upload("i.png", picture, "image/png")),
    )

    documents = {document.kind: document for document in Document.objects.filter(case=case)}
    names = sorted(document.storage_name for document in documents.values())
    assert sorted(_keys_in(buckets, "onepanel-documents")) == names
    identity = documents["identity"]
    sealed = buckets.get_object(Bucket="onepanel-documents", Key=identity.storage_name)
    assert picture not in sealed["Body"].read()  # the bucket never holds it in clear
    assert (
        document_read(document=identity)
        == clean_upload(files.upload("i.png", picture, "image/png")).content
    )


def test_the_environment_switches_both_storages_to_s3():
    """The variables docs/scaling.md names are what config/settings reads."""
    options = {"bucket_name": "onepanel-media", "default_acl": "private"}
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "SUPPORT_ATTACHMENTS_STORAGE_BACKEND": "storages.backends.s3.S3Storage",
        "SUPPORT_ATTACHMENTS_STORAGE_OPTIONS": json.dumps(options),
        "VERIFICATION_STORAGE_BACKEND": "storages.backends.s3.S3Storage",
        "VERIFICATION_STORAGE_OPTIONS": json.dumps(options),
    }
    result = run_python(
        "-c",
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({k: settings.STORAGES[k] for k in "
        "('support_attachments', 'verification')}))",
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout

    assert json.loads(printed.splitlines()[-1]) == {
        "support_attachments": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "verification": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
