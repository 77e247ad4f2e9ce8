"""Account > Privacy > Export: a worker builds the zip, the link is emailed, needs the
owner signed in, and the file goes when it expires."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile

import pytest
from django.core import mail
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingAccount
from privacy import discovery
from privacy.data_requests import exports_expire
from privacy.models import DataRequest
from privacy.services import documents_accept_current
from tests.factories import PaymentMethodFactory


def _request_export(client, capture):
    with capture(execute=True):
        response = client.post(reverse("privacy:export"))
    assert response.status_code == 302
    return DataRequest.objects.filter(kind=DataRequest.Kind.EXPORT).latest("pk")


def _download(client, data_request) -> zipfile.ZipFile:
    response = client.get(reverse("privacy:export_download", args=[data_request.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.django_db
def test_the_export_holds_every_category_and_nothing_of_another_customer(
    alice_client, alice, bob, alice_invoice, django_capture_on_commit_callbacks
):
    alice.business_name = "Archer Hosting Ltd"
    alice.save()
    PaymentMethodFactory(user=alice, last4="4242")
    PaymentMethodFactory(user=bob, last4="1881")
    documents_accept_current(user=alice, source="signup", ip="203.0.113.1")
    documents_accept_current(user=bob, source="signup", ip="198.51.100.9")
    alice_client.post(reverse("privacy:consent"), {"choice": "accept_all"})

    data_request = _request_export(alice_client, django_capture_on_commit_callbacks)
    archive = _download(alice_client, data_request)

    data = json.loads(archive.read("export.json"))
    assert data["format"] == "onepanel-export" and data["version"] == 1
    expected = {
        f"{source.app_label}.{category}"
        for source in discovery.sources()
        for category in source.export(alice)
    }
    assert set(data["categories"]) == expected
    for category in [
        "accounts.profile",
        "accounts.sessions",
        "privacy.consent_records",
        "privacy.document_acceptances",
        "notifications.consent_records",
        "notifications.messages",
        "billing.orders",
        "billing.services",
        "billing.invoices",
        "billing.cards",
        "billing.stripe",
        "verification.verification_cases",
    ]:
        assert category in data["categories"]
    assert data["categories"]["accounts.profile"]["business_name"] == "Archer Hosting Ltd"
    assert data["categories"]["billing.invoices"][0]["number"] == alice_invoice.number
    assert [c["last4"] for c in data["categories"]["billing.cards"]] == ["4242"]
    pdf = data["categories"]["billing.invoices"][0]["pdf"]
    assert pdf == f"invoices/{alice_invoice.number}.pdf" and pdf in data["files"]
    assert archive.read(pdf).startswith(b"%PDF")
    summary = archive.read("summary.html").decode()
    assert "Archer Hosting Ltd" in summary and alice_invoice.number in summary
    everything = b"".join(archive.read(name) for name in archive.namelist() if "pdf" not in name)
    for of_bob in [b"bob@example.com", b"Bob Baker", b"1881", b"198.51.100.9"]:
        assert of_bob not in everything


@pytest.mark.django_db
def test_the_link_is_emailed_needs_the_owner_signed_in_and_expires(
    client, alice, bob, django_capture_on_commit_callbacks, settings
):
    settings.PRIVACY_EXPORT_DAYS = 3
    client.force_login(alice)
    mail.outbox.clear()
    data_request = _request_export(client, django_capture_on_commit_callbacks)

    (message,) = [m for m in mail.outbox if "export" in m.subject.lower()]
    assert message.to == ["alice@example.com"]
    url = reverse("privacy:export_download", args=[data_request.pk])
    assert url in message.body and "3 days" in message.body
    assert data_request.status == DataRequest.Status.READY
    assert data_request.expires_at - data_request.completed_at == datetime.timedelta(days=3)

    client.logout()
    assert client.get(url).status_code == 302  # to sign-in
    client.force_login(bob)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_the_beat_job_deletes_the_file_when_the_link_expires(
    alice_client, alice, django_capture_on_commit_callbacks
):
    data_request = _request_export(alice_client, django_capture_on_commit_callbacks)
    name = data_request.file_name
    assert storages["privacy"].exists(name)

    assert exports_expire() == 0  # not yet due
    DataRequest.objects.filter(pk=data_request.pk).update(expires_at=timezone.now())
    assert exports_expire() == 1

    assert not storages["privacy"].exists(name)
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.EXPIRED
    url = reverse("privacy:export_download", args=[data_request.pk])
    assert alice_client.get(url).status_code == 404


def test_the_expiry_job_is_scheduled_and_the_default_is_seven_days():
    from django.conf import settings

    assert settings.PRIVACY_EXPORT_DAYS == 7
    job = settings.CELERY_BEAT_SCHEDULE["privacy-delete-expired-exports"]
    assert job["task"] == "privacy.tasks.delete_expired_exports"


@pytest.mark.django_db
def test_a_double_click_builds_one_export(alice_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        alice_client.post(reverse("privacy:export"))
        alice_client.post(reverse("privacy:export"))
    assert DataRequest.objects.count() == 1


@pytest.mark.django_db
def test_the_export_includes_what_stripe_holds(
    alice_client, alice, localstripe, django_capture_on_commit_callbacks
):
    from billing.services.customers import stripe_customer_ensure

    stripe_customer_ensure(user=alice)
    customer_id = BillingAccount.objects.get(user=alice).stripe_customer_id

    data_request = _request_export(alice_client, django_capture_on_commit_callbacks)
    data = json.loads(_download(alice_client, data_request).read("export.json"))

    stripe_data = data["categories"]["billing.stripe"]
    assert stripe_data["customer"]["id"] == customer_id
    assert stripe_data["customer"]["email"] == "alice@example.com"
    assert stripe_data["payment_methods"] == []


@pytest.mark.django_db
def test_the_privacy_page_lists_the_requests_with_their_state(
    alice_client, alice, django_capture_on_commit_callbacks
):
    _request_export(alice_client, django_capture_on_commit_callbacks)

    page = alice_client.get(reverse("privacy:index")).content.decode()

    assert re.search(r"Export</td>.*Ready to download", page, re.S)
    assert "Download</a>" in page


@pytest.mark.django_db
def test_the_privacy_page_links_each_ticket_request_and_shows_its_state(alice_client, alice):
    from support.models import Department, PrivacyRequestType, Ticket

    department = Department.objects.filter(handles_privacy_requests=True).first()
    assert department is not None
    Ticket.objects.create(
        user=alice,
        department=department,
        subject="Restrict",
        request_type=PrivacyRequestType.RESTRICT,
        request_due_at=timezone.now() + datetime.timedelta(days=30),
    )

    page = alice_client.get(reverse("privacy:index")).content.decode()

    for kind in ["correct", "update", "restrict", "object"]:
        assert f"{reverse('support:ticket_open')}?type={kind}" in page
    assert "Restrict processing of my personal information</a>:" in page
    assert "answer due by" in page


@pytest.mark.django_db
def test_the_zip_holds_the_customers_ticket_attachments_and_not_another_customers(
    alice_client, alice, bob, django_capture_on_commit_callbacks
):
    from support.files import check_attachment
    from support.models import Department
    from support.services import ticket_open

    department = Department.objects.get(slug="support")
    ticket_open(
        user=alice,
        department=department,
        subject="Slow",
        body="See the log",
        files=[check_attachment(name="top.txt", content=b"load average: 9.0 (alice)")],
    )
    ticket_open(
        user=bob,
        department=department,
        subject="Bob's",
        body="Bob's log",
        files=[check_attachment(name="bob.txt", content=b"secret of bob")],
    )

    data_request = _request_export(alice_client, django_capture_on_commit_callbacks)
    archive = _download(alice_client, data_request)

    data = json.loads(archive.read("export.json"))
    [ticket] = data["categories"]["support.tickets"]
    [attachment] = ticket["messages"][0]["attachments"]
    assert attachment["filename"] == "top.txt"
    assert attachment["path"] in data["files"]
    assert archive.read(attachment["path"]) == b"load average: 9.0 (alice)"
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"secret of bob" not in everything
    assert not [name for name in archive.namelist() if "bob" in name]


def _export_queries(user) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from privacy import export

    with CaptureQueriesContext(connection) as queries:
        export.build(user=user, request_id=0).unlink()
    return len(queries)


@pytest.mark.django_db
def test_the_exports_queries_do_not_grow_with_invoices_or_tickets(alice, alice_invoice):
    from billing.models import InvoiceLine
    from support.files import check_attachment
    from support.models import Department
    from support.services import ticket_open
    from tests.factories import InvoiceFactory, PaymentFactory

    department = Department.objects.get(slug="support")

    def ticket() -> None:
        ticket_open(
            user=alice,
            department=department,
            subject="Slow",
            body="See the log",
            files=[check_attachment(name="top.txt", content=b"load average: 9.0")],
        )

    ticket()
    few = _export_queries(alice)
    for _ in range(2):
        invoice = InvoiceFactory(user=alice, order=alice_invoice.order)
        InvoiceLine.objects.create(
            invoice=invoice, description="Starter", unit_amount=500, amount=500
        )
        PaymentFactory(invoice=invoice)
        ticket()

    assert _export_queries(alice) == few
