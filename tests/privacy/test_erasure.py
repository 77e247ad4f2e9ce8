"""Account > Privacy > Erase: re-authentication, a cancellable grace period, blockers,
then each app's erase, resumable, leaving nothing of the customer in any text column."""

from __future__ import annotations

import datetime
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingAccount, Invoice, InvoiceStatus, Service, ServiceStatus
from privacy import discovery
from privacy.data_requests import erasure_run
from privacy.models import DataRequest
from privacy.services import documents_accept_current
from tests.factories import PaymentMethodFactory

PASSWORD = "a long passphrase 42"


@pytest.fixture
def erasable(alice, alice_invoice):
    """Alice with a paid invoice, her service cancelled: nothing blocks her erasure."""
    Invoice.objects.filter(pk=alice_invoice.pk).update(status=InvoiceStatus.PAID)
    Service.objects.filter(user=alice).update(status=ServiceStatus.CANCELLED)
    alice.set_password(PASSWORD)
    alice.business_name = "Archer Hosting Ltd"
    alice.address_line1 = "221B Baker Street"
    alice.phone = "+447700900123"
    alice.save()
    return alice


def _schedule(client, capture) -> DataRequest:
    with capture(execute=True):
        response = client.post(reverse("privacy:erasure"), {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return DataRequest.objects.get(kind=DataRequest.Kind.ERASURE)


def _due(data_request: DataRequest) -> None:
    DataRequest.objects.filter(pk=data_request.pk).update(erase_after=timezone.now())


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type IN"
            " ('text', 'character varying', 'jsonb', 'json', 'inet')"
        )
        return list(cursor.fetchall())


def _rows_holding(value: str) -> list[str]:
    """Every table.column of the database with a row that contains `value`."""
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1',  # noqa: S608
                [f"%{value}%"],
            )
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


def test_it_asks_for_the_password_before_anything(client, erasable):
    client.force_login(erasable)
    page = client.get(reverse("privacy:erasure")).content.decode()
    assert 'name="password"' in page

    response = client.post(reverse("privacy:erasure"), {"password": "wrong"})

    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert not DataRequest.objects.exists()


def test_a_customer_with_totp_must_give_the_code_too(
    client, erasable, django_capture_on_commit_callbacks
):
    secret = generate_totp_secret()
    TOTP.activate(erasable, secret)
    client.force_login(erasable)

    response = client.post(reverse("privacy:erasure"), {"password": PASSWORD, "code": "000000"})
    assert response.status_code == 400
    assert not DataRequest.objects.exists()

    code = f"{hotp_value(secret, int(timezone.now().timestamp()) // 30):06d}"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy:erasure"), {"password": PASSWORD, "code": code})
    assert response.status_code == 302
    assert DataRequest.objects.get().status == DataRequest.Status.SCHEDULED


def test_erasure_is_refused_with_the_reason_while_an_invoice_is_unpaid_or_a_service_is_live(
    client, alice, alice_invoice
):
    alice.set_password(PASSWORD)
    alice.save()
    client.force_login(alice)

    response = client.post(reverse("privacy:erasure"), {"password": PASSWORD})

    page = response.content.decode()
    assert "1 invoice is unpaid." in page and "Pay the unpaid invoices" in page
    assert reverse("billing:invoices") in page
    assert not DataRequest.objects.exists()


def test_an_open_dispute_blocks_the_erasure(erasable, alice_invoice):
    from billing.models import Payment

    Payment.objects.create(
        invoice=alice_invoice, attempt=1, amount=100, currency="EUR", disputed_at=timezone.now()
    )
    from privacy import erasure

    assert [b.reason for b in erasure.blockers(erasable)] == [
        f"The payment of invoice {alice_invoice.number} is disputed with your bank and the"
        " dispute is not closed yet."
    ]
    # Closed (won, lost or an inquiry closed) is no longer open: nothing blocks.
    Payment.objects.filter(invoice=alice_invoice).update(dispute_closed_at=timezone.now())
    assert erasure.blockers(erasable) == []


def test_the_grace_period_is_a_setting_and_can_be_cancelled_in_the_client_area(
    client, erasable, django_capture_on_commit_callbacks, settings
):
    settings.PRIVACY_ERASURE_GRACE_DAYS = 5
    client.force_login(erasable)
    data_request = _schedule(client, django_capture_on_commit_callbacks)
    assert data_request.erase_after is not None
    assert data_request.erase_after - data_request.created_at == datetime.timedelta(days=5)

    response = client.post(reverse("privacy:erasure_cancel", args=[data_request.pk]))

    assert response.status_code == 302
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.CANCELLED
    _due(data_request)
    erasure_run(request_id=data_request.pk)
    erasable.refresh_from_db()
    assert erasable.email == "alice@example.com" and erasable.is_active


def test_the_default_grace_period_is_fourteen_days_and_due_erasures_are_run_by_beat():
    from django.conf import settings

    assert settings.PRIVACY_ERASURE_GRACE_DAYS == 14
    assert (
        settings.CELERY_BEAT_SCHEDULE["privacy-run-due-erasures"]["task"]
        == "privacy.tasks.run_due_erasures"
    )


def test_the_emailed_link_asks_on_get_and_cancels_on_post(
    client, erasable, bob, django_capture_on_commit_callbacks
):
    client.force_login(erasable)
    mail.outbox.clear()
    data_request = _schedule(client, django_capture_on_commit_callbacks)
    (message,) = [m for m in mail.outbox if "erased on" in m.subject]
    found = re.search(r"http://\S+/privacy/erasure/cancel/\S+/", str(message.body))
    assert found is not None
    path = found.group(0).split("8000", 1)[1]
    client.logout()

    assert "Yes, keep my account" in client.get(path).content.decode()
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.SCHEDULED  # GET changed nothing

    assert "cancelled" in client.post(path).content.decode()
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.CANCELLED
    assert client.get("/privacy/erasure/cancel/forged/").status_code == 404


def test_another_customer_cannot_cancel_alices_erasure(
    client, erasable, bob, django_capture_on_commit_callbacks
):
    client.force_login(erasable)
    data_request = _schedule(client, django_capture_on_commit_callbacks)
    client.force_login(bob)

    assert client.post(reverse("privacy:erasure_cancel", args=[data_request.pk])).status_code == 404


def test_after_erasure_no_text_column_holds_the_customer_while_invoices_and_others_stay(
    client, erasable, bob, alice_invoice, django_capture_on_commit_callbacks
):
    ip = "203.0.113.77"
    BillingAccount.objects.update_or_create(
        user=erasable, defaults={"vat_number": "GB999999973", "stripe_customer_id": ""}
    )
    PaymentMethodFactory(user=erasable, last4="4242")
    documents_accept_current(user=erasable, source="signup", ip=ip)
    documents_accept_current(user=bob, source="signup", ip="198.51.100.9")
    client.force_login(erasable)
    client.post(reverse("privacy:consent"), {"choice": "accept_all"}, REMOTE_ADDR=ip)
    total = Invoice.objects.get(pk=alice_invoice.pk).total
    # What an invoice must show (name, address, business) stays on the invoice, as tax
    # law requires; the scan looks everywhere else.
    Invoice.objects.filter(pk=alice_invoice.pk).update(
        billing_name="Alice Archer", billing_business="", billing_address=""
    )
    mail.outbox.clear()
    data_request = _schedule(client, django_capture_on_commit_callbacks)
    _due(data_request)

    with django_capture_on_commit_callbacks(execute=True):
        erasure_run(request_id=data_request.pk)

    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.DONE
    assert [m.subject for m in mail.outbox if m.to == ["alice@example.com"]][-1] == (
        "Your account has been erased"
    )
    kept = {"billing_invoice.billing_name"}
    for value in [
        "alice@example.com",
        "Archer Hosting Ltd",
        "+447700900123",
        "221B Baker Street",
        "GB999999973",
        ip,
    ]:
        assert set(_rows_holding(value)) - kept == set(), value
    assert Invoice.objects.get(pk=alice_invoice.pk).total == total
    bob.refresh_from_db()
    assert bob.email == "bob@example.com" and bob.is_active
    assert _rows_holding("198.51.100.9")
    assert client.get(reverse("privacy:index")).status_code == 302  # signed out


def test_an_erasure_that_fails_half_way_resumes_where_it_stopped(
    erasable, django_capture_on_commit_callbacks, monkeypatch
):
    from privacy import data_requests, erasure

    data_request = data_requests.erasure_request(user=erasable)
    _due(data_request)
    sources = {source.app_label: source for source in discovery.sources()}
    calls: list[str] = []

    def failing_erase(user):
        calls.append("billing")
        raise RuntimeError("database went away")

    monkeypatch.setattr(sources["billing"].module, "erase", failing_erase)
    with pytest.raises(RuntimeError):
        erasure_run(request_id=data_request.pk)

    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.FAILED
    assert "database went away" in data_request.error
    done = data_request.steps_done
    assert done == erasure.steps()[: erasure.steps().index("billing")]
    assert "accounts" not in done
    erasable.refresh_from_db()
    assert erasable.email == "alice@example.com"  # accounts (last) did not run

    monkeypatch.undo()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        erasure_run(request_id=data_request.pk)

    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.DONE
    assert data_request.steps_done == erasure.steps()
    assert not [m for m in mail.outbox if m.subject == "Your account has been erased"]  # once
    erasable.refresh_from_db()
    assert erasable.email.startswith("erased-") and not erasable.is_active
