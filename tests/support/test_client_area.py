"""Tickets in the client area: open with files, list, read, reply, close, reopen; scoping."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.services import orders as billing_services
from support import services
from support.models import Attachment, Message, Ticket, TicketStatus
from tests.factories import PriceFactory, ProductFactory
from tests.helpers import PDF_BYTES, png_bytes, stored_files


def open_ticket(client, department, **extra):
    data = {
        "department": department.pk,
        "subject": "Site is down",
        "priority": "high",
        "body": "My site answers 502 since this morning.",
        **extra,
    }
    return client.post(reverse("support:ticket_open"), data)


def test_a_customer_opens_a_ticket_with_two_files(alice_client, alice, support_department):
    response = open_ticket(
        alice_client,
        support_department,
        attachments=[
            SimpleUploadedFile("error.pdf", PDF_BYTES, content_type="application/pdf"),
            SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png"),
        ],
    )
    ticket = Ticket.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("support:ticket", args=[ticket.pk])
    assert (ticket.subject, ticket.priority, ticket.status) == ("Site is down", "high", "open")
    files = Attachment.objects.filter(message__ticket=ticket).order_by("filename")
    assert [(f.filename, f.content_type) for f in files] == [
        ("error.pdf", "application/pdf"),
        ("screen.png", "image/png"),
    ]
    assert len(stored_files()) == 2

    page = alice_client.get(response["Location"]).content.decode()
    assert "My site answers 502 since this morning." in page
    assert "error.pdf" in page and "screen.png" in page


def test_the_files_are_stored_outside_media_and_have_no_public_url(alice, support_department):
    from django.conf import settings

    from support.files import check_attachment

    ticket = services.ticket_open(
        user=alice,
        department=support_department,
        subject="x",
        body="y",
        files=[check_attachment(name="a.pdf", content=PDF_BYTES)],
    )
    attachment = Attachment.objects.get(message__ticket=ticket)
    path = attachment.file.path
    assert path.startswith(str(settings.SUPPORT_ATTACHMENTS_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT))
    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018 (the storage has no base URL)


def test_the_owner_downloads_a_file_as_an_attachment(alice_client, alice, support_department):
    open_ticket(
        alice_client,
        support_department,
        attachments=[SimpleUploadedFile("error.pdf", PDF_BYTES, content_type="text/html")],
    )
    attachment = Attachment.objects.get()
    response = alice_client.get(reverse("support:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="error.pdf"'
    # The type comes from the content, not from what the browser claimed.
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("big.pdf", PDF_BYTES + b"0" * 2048, "files may be at most"),
        (
            "invoice.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00program",
            "is not a kind of file we accept",
        ),
        ("photo.pdf", png_bytes(), "is a PNG image by its content, but its name says otherwise"),
    ],
)
def test_an_oversized_or_disguised_file_is_refused_and_nothing_is_stored(
    alice_client, alice, support_department, settings, name, content, message
):
    settings.SUPPORT_ATTACHMENT_MAX_BYTES = 1024
    response = open_ticket(
        alice_client, support_department, attachments=[SimpleUploadedFile(name, content)]
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files() == []


def test_a_refused_file_on_a_reply_keeps_the_reply_out_too(alice_client, alice, support_department):
    ticket = services.ticket_open(user=alice, department=support_department, subject="s", body="b")
    response = alice_client.post(
        reverse("support:ticket_reply", args=[ticket.pk]),
        {"body": "Here it is", "attachments": [SimpleUploadedFile("x.png", b"GIF89a not really")]},
    )
    assert response.status_code == 400
    assert "is a text file by its content, but its name says otherwise" in response.content.decode()
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert stored_files() == []


def test_a_reply_waits_for_staff_and_a_closed_ticket_reopens_on_reply(
    alice_client, alice, support_department
):
    ticket = services.ticket_open(user=alice, department=support_department, subject="s", body="b")
    alice_client.post(reverse("support:ticket_close", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED

    alice_client.post(reverse("support:ticket_reply", args=[ticket.pk]), {"body": "Still broken"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.AWAITING_STAFF
    assert ticket.closed_at is None
    assert list(ticket.messages.values_list("body", flat=True)) == ["b", "Still broken"]


def test_close_and_reopen(alice_client, alice, support_department):
    ticket = services.ticket_open(user=alice, department=support_department, subject="s", body="b")
    alice_client.post(reverse("support:ticket_close", args=[ticket.pk]))
    page = alice_client.get(reverse("support:ticket", args=[ticket.pk])).content.decode()
    assert "Reopen ticket" in page
    alice_client.post(reverse("support:ticket_reopen", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.AWAITING_STAFF


def test_the_list_filters_by_status(alice_client, alice, support_department):
    services.ticket_open(user=alice, department=support_department, subject="Open one", body="b")
    closed = services.ticket_open(
        user=alice, department=support_department, subject="Closed one", body="b"
    )
    services.ticket_close(ticket=closed)
    body = alice_client.get(reverse("support:tickets")).content.decode()
    assert "Open one" in body and "Closed one" not in body
    body = alice_client.get(reverse("support:tickets"), {"status": "closed"}).content.decode()
    assert "Closed one" in body and "Open one" not in body
    body = alice_client.get(reverse("support:tickets"), {"status": "all"}).content.decode()
    assert "Closed one" in body and "Open one" in body


def test_the_empty_list_says_so_and_offers_to_open_one(alice_client):
    body = alice_client.get(reverse("support:tickets")).content.decode()
    assert "You have no open tickets." in body
    assert reverse("support:ticket_open") in body


def test_the_list_takes_the_same_queries_for_3_and_30_tickets(
    alice_client, alice, support_department
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_client.get(reverse("support:tickets")).status_code == 200
        return len(queries)

    for n in range(3):
        services.ticket_open(user=alice, department=support_department, subject=f"t{n}", body="b")
    count()  # the first signed-in request of a session does one-off work
    few = count()
    for n in range(27):
        services.ticket_open(user=alice, department=support_department, subject=f"u{n}", body="b")
    assert count() == few


def test_the_thread_takes_the_same_queries_for_1_and_10_messages(
    alice_client, alice, support_department
):
    from support.files import check_attachment

    ticket = services.ticket_open(user=alice, department=support_department, subject="s", body="b")
    url = reverse("support:ticket", args=[ticket.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice_client.get(url).status_code == 200
        return len(queries)

    count()  # the first signed-in request of a session does one-off work
    few = count()
    for n in range(9):
        services.ticket_customer_reply(
            ticket=ticket,
            author=alice,
            body=f"r{n}",
            files=[check_attachment(name=f"{n}.pdf", content=PDF_BYTES)],
        )
    assert count() == few


def test_a_ticket_may_refer_to_the_customers_own_invoice_only(alice, bob, support_department):
    from core.exceptions import ApplicationError

    product = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=500)
    order = billing_services.order_place(
        user=bob,
        lines=[billing_services.CartLine(product_id=product.pk, cycle="monthly")],
        currency="EUR",
    )
    with pytest.raises(ApplicationError):
        services.ticket_open(
            user=alice,
            department=support_department,
            subject="s",
            body="b",
            invoice=order.invoices.get(),
        )


def test_the_form_offers_only_the_customers_invoices(client, alice, bob, support_department):
    product = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=500)
    order = billing_services.order_place(
        user=bob,
        lines=[billing_services.CartLine(product_id=product.pk, cycle="monthly")],
        currency="EUR",
    )
    bob_invoice = order.invoices.get()
    client.force_login(alice)
    response = open_ticket(client, support_department, invoice=bob_invoice.pk)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    client.force_login(bob)
    response = open_ticket(client, support_department, invoice=bob_invoice.pk)
    assert Ticket.objects.get(user=bob).invoice == bob_invoice


@pytest.mark.parametrize(
    "name",
    ["support:ticket", "support:ticket_reply", "support:ticket_close", "support:ticket_reopen"],
)
def test_another_customer_gets_404_on_a_ticket(client, alice, bob, support_department, name):
    ticket = services.ticket_open(user=alice, department=support_department, subject="s", body="b")
    client.force_login(bob)
    method = client.get if name == "support:ticket" else client.post
    assert method(reverse(name, args=[ticket.pk]), {"body": "x"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.messages.count() == 1


def test_another_customer_gets_404_on_an_attachment(client, alice, bob, support_department):
    from support.files import check_attachment

    services.ticket_open(
        user=alice,
        department=support_department,
        subject="s",
        body="b",
        files=[check_attachment(name="a.pdf", content=PDF_BYTES)],
    )
    client.force_login(bob)
    attachment = Attachment.objects.get()
    assert client.get(reverse("support:attachment", args=[attachment.pk])).status_code == 404


def test_a_customer_never_sees_internal_notes_nor_their_files(
    alice_client, alice, charlie, support_department
):
    ticket = services.ticket_open(user=alice, department=support_department, subject="s", body="b")
    services.ticket_add_note(ticket=ticket, staff=charlie, body="Customer is on the old cluster")
    page = alice_client.get(reverse("support:ticket", args=[ticket.pk])).content.decode()
    assert "old cluster" not in page


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("support:tickets"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_the_dashboard_shows_open_tickets(alice_client, alice, support_department):
    services.ticket_open(
        user=alice, department=support_department, subject="Mail bounces", body="b"
    )
    body = alice_client.get(reverse("core:dashboard")).content.decode()
    assert "Mail bounces" in body
    assert "1 open ticket" in body


def test_the_menu_has_a_support_entry(alice_client):
    body = alice_client.get(reverse("core:dashboard")).content.decode()
    assert f'href="{reverse("support:tickets")}"' in body


def test_the_list_pages_by_50_and_keeps_the_filter(alice_client, alice, support_department):
    for n in range(51):
        services.ticket_open(user=alice, department=support_department, subject=f"t{n}", body="b")
    first = alice_client.get(reverse("support:tickets"), {"status": "all"}).content.decode()
    assert "Page 1 of 2" in first and "?status=all&amp;page=2" in first
    second = alice_client.get(reverse("support:tickets"), {"status": "all", "page": 2})
    assert second.content.decode().count('data-label="Ticket"') == 1
