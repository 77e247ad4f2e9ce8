"""Account > Privacy > Erase, blocked by support and provisioning: each blocker is shown
with its reason and how to clear it, and clearing it lets the erasure be scheduled."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, InvoiceStatus, Service, ServiceStatus
from privacy.models import DataRequest
from provisioning.models import Account, AccountStatus, ModuleName
from support.models import Department, PrivacyRequestType, Ticket, TicketStatus
from tests.helpers import WHM_TOKEN, make_server

PASSWORD = "a long passphrase 42"

pytestmark = pytest.mark.django_db


@pytest.fixture
def erasable(alice, alice_invoice):
    """Alice with a paid invoice and her service cancelled: billing does not block."""
    Invoice.objects.filter(pk=alice_invoice.pk).update(status=InvoiceStatus.PAID)
    Service.objects.filter(user=alice).update(status=ServiceStatus.CANCELLED)
    alice.set_password(PASSWORD)
    alice.save()
    return alice


@pytest.fixture
def alice_client(client, erasable):
    client.force_login(erasable)
    return client


def _ticket(user, *, status=TicketStatus.AWAITING_STAFF, request_type="", **fields) -> Ticket:
    department = Department.objects.get(
        slug="privacy" if request_type else "support",
    )
    return Ticket.objects.create(
        user=user,
        department=department,
        subject="A question",
        status=status,
        request_type=request_type,
        **fields,
    )


def _blocked(client) -> str:
    """The erasure page, checked to refuse a POST with the right password."""
    response = client.post(reverse("privacy:erasure"), {"password": PASSWORD})
    assert response.status_code == 200
    assert not DataRequest.objects.filter(kind=DataRequest.Kind.ERASURE).exists()
    page: str = response.content.decode()
    assert "Your account cannot be erased yet" in page
    assert 'name="password"' not in page
    return page


def _schedules(client, capture) -> None:
    with capture(execute=True):
        response = client.post(reverse("privacy:erasure"), {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    assert DataRequest.objects.get(kind=DataRequest.Kind.ERASURE).status == "scheduled"


def test_an_unanswered_restriction_request_blocks_until_the_customer_withdraws_it(
    alice_client, erasable, django_capture_on_commit_callbacks
):
    ticket = _ticket(
        erasable,
        request_type=PrivacyRequestType.RESTRICT,
        request_due_at=datetime.datetime(2027, 1, 15, 12, tzinfo=datetime.UTC),
    )

    page = _blocked(alice_client)

    assert (
        f"Your request “Restrict processing of my personal information” ({ticket.reference})"
        " is not answered yet; our answer is due by 15 January 2027." in page
    )
    assert "withdraw the request by closing the ticket" in page
    assert f'href="{reverse("support:ticket", args=[ticket.pk])}"' in page

    alice_client.post(reverse("support:ticket_close", args=[ticket.pk]))
    _schedules(alice_client, django_capture_on_commit_callbacks)


def test_a_decided_privacy_request_does_not_block(
    alice_client, erasable, django_capture_on_commit_callbacks
):
    _ticket(
        erasable,
        status=TicketStatus.AWAITING_CUSTOMER,
        request_type=PrivacyRequestType.OBJECT,
        request_decision="accepted",
        request_decided_at=timezone.now(),
    )
    _schedules(alice_client, django_capture_on_commit_callbacks)


def test_tickets_waiting_for_our_answer_block_and_closing_them_clears_it(
    alice_client, erasable, bob, django_capture_on_commit_callbacks
):
    first = _ticket(erasable, status=TicketStatus.OPEN)
    second = _ticket(erasable, status=TicketStatus.AWAITING_STAFF)
    _ticket(erasable, status=TicketStatus.AWAITING_CUSTOMER)  # they have our reply
    _ticket(bob, status=TicketStatus.OPEN)  # someone else's

    page = _blocked(alice_client)

    assert f"2 tickets ({first.reference}, {second.reference}) are waiting for our answer." in page
    assert "Close the tickets you no longer need an answer to" in page
    assert f'href="{reverse("support:tickets")}"' in page

    for ticket in (first, second):
        alice_client.post(reverse("support:ticket_close", args=[ticket.pk]))
    _schedules(alice_client, django_capture_on_commit_callbacks)


def _account(email: str, status: str, **fields) -> Account:
    server = make_server(
        ModuleName.CPANEL, secret=WHM_TOKEN, hostname="whm.example.com", username="root"
    )
    return Account.objects.create(
        reference=f"service-{Account.objects.count() + 1}",
        server=server,
        username="alice12",
        email=email,
        status=status,
        **fields,
    )


def test_a_hosting_account_still_on_a_panel_blocks_until_it_is_removed(
    alice_client, erasable, django_capture_on_commit_callbacks
):
    account = _account("Alice@Example.com", AccountStatus.SUSPENDED, domain="alice.example.net")

    page = _blocked(alice_client)

    assert re.search(
        r"The hosting account alice\.example\.net is still on our server, with its files,"
        r" mail and databases\.</strong> Take a copy of anything you want to keep, then"
        r" cancel its service",
        page,
    )
    assert f'href="{reverse("billing:services")}"' in page

    Account.objects.filter(pk=account.pk).update(status=AccountStatus.REMOVED)
    _schedules(alice_client, django_capture_on_commit_callbacks)


def test_another_customers_live_account_or_one_never_created_does_not_block(
    alice_client, erasable, django_capture_on_commit_callbacks
):
    _account("bob@example.com", AccountStatus.CREATED)
    Account.objects.create(
        reference="service-99",
        server=Account.objects.get().server,
        username="alice99",
        email="alice@example.com",
        status=AccountStatus.NEW,
    )
    _schedules(alice_client, django_capture_on_commit_callbacks)
