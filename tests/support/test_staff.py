"""Staff in the admin: reply (by email, threading back), notes, canned replies, assignment,
merging, the waiting-time queue, and downloads; customers kept out."""

from __future__ import annotations

import pytest
from django.core import mail as django_mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from support import addressing, services
from support.files import check_attachment
from support.models import Attachment, CannedReply, Message, Ticket, TicketStatus
from tests.helpers import PDF_BYTES, pipe_email, png_bytes, reply_email

pytestmark = pytest.mark.django_db


def change_form(ticket: Ticket, **fields: object) -> dict[str, object]:
    """What the admin's change form posts: the ticket's fields and the inline's management."""
    count = ticket.messages.count()
    return {
        "department": ticket.department_id,
        "subject": ticket.subject,
        "priority": ticket.priority,
        "status": ticket.status,
        "assigned_to": ticket.assigned_to_id or "",
        "reply": "",
        "canned_reply": "",
        "internal_note": "",
        "messages-TOTAL_FORMS": count,
        "messages-INITIAL_FORMS": count,
        "messages-MIN_NUM_FORMS": 0,
        "messages-MAX_NUM_FORMS": 1000,
        **{f"messages-{i}-id": m.pk for i, m in enumerate(ticket.messages.order_by("pk"))},
        **{f"messages-{i}-ticket": ticket.pk for i in range(count)},
        **fields,
    }


def save(client, ticket, **fields):
    return client.post(
        reverse("admin:support_ticket_change", args=[ticket.pk]), change_form(ticket, **fields)
    )


@pytest.fixture
def ticket(alice, support_department):
    return services.ticket_open(
        user=alice, department=support_department, subject="Site is down", body="502 errors"
    )


def test_a_staff_reply_reaches_the_customer_by_smtp_and_their_emailed_answer_threads_back(
    client,
    charlie,
    alice,
    support_department,
    smtp_server,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks,
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    # The customer opens the ticket on the web, with a file.
    customer = Client()
    customer.force_login(alice)
    customer.post(
        reverse("support:ticket_open"),
        {
            "department": support_department.pk,
            "subject": "Site is down",
            "priority": "normal",
            "body": "502 errors",
            "attachments": [SimpleUploadedFile("error.pdf", PDF_BYTES)],
        },
    )
    ticket = Ticket.objects.get(user=alice)

    client.force_login(charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = save(client, ticket, reply="Restarted PHP; try now.")
    assert response.status_code == 302

    [sent] = smtp_server.recorder.wait_for(1)
    assert sent["To"] == "alice@example.com"
    assert sent["Subject"] == f"Re: Site is down {ticket.reference}"
    assert "Restarted PHP; try now." in sent.get_body(("plain",)).get_content()
    reply_to = sent["Reply-To"]
    assert reply_to == addressing.reply_address(ticket.pk)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.AWAITING_CUSTOMER

    # The customer answers that email, with a screenshot, from their mail program.
    from email.message import EmailMessage

    answer = EmailMessage()
    answer["From"] = "Alice Archer <alice@example.com>"
    answer["To"] = reply_to
    answer["Subject"] = f"Re: {sent['Subject']}"
    answer["In-Reply-To"] = sent["Message-ID"]
    answer.set_content(
        "Works now, thank you!\n\nOn Tue, 1 Dec 2026, OnePanel wrote:\n> Restarted PHP; try now.\n"
    )
    answer.add_attachment(png_bytes(), maintype="image", subtype="png", filename="ok.png")
    with django_capture_on_commit_callbacks(execute=True):
        pipe_email(answer.as_bytes())

    thread = list(ticket.messages.order_by("pk"))
    assert [m.body for m in thread] == [
        "502 errors",
        "Restarted PHP; try now.",
        "Works now, thank you!",
    ]
    assert [a.filename for a in thread[-1].attachments.all()] == ["ok.png"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.AWAITING_STAFF
    # The customer's own words are not mailed back to them.
    assert len(smtp_server.messages) == 1
    page = client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()
    assert "Works now, thank you!" in page and "ok.png" in page
    # And the customer reads the whole thread, both files included, in the client area.
    page = customer.get(reverse("support:ticket", args=[ticket.pk])).content.decode()
    for text in ("502 errors", "error.pdf", "Restarted PHP; try now.", "Works now", "ok.png"):
        assert text in page


def test_a_canned_reply_is_sent_when_the_reply_box_is_empty(
    client, charlie, ticket, django_capture_on_commit_callbacks
):
    canned = CannedReply.objects.create(title="Cache", body="Please clear your browser cache.")
    client.force_login(charlie)
    with django_capture_on_commit_callbacks(execute=True):
        save(client, ticket, canned_reply=canned.pk)
    assert ticket.messages.last().body == "Please clear your browser cache."
    assert "Please clear your browser cache." in django_mail.outbox[0].body


def test_an_internal_note_is_never_sent_nor_shown_to_the_customer(
    client, charlie, alice, ticket, django_capture_on_commit_callbacks
):
    client.force_login(charlie)
    with django_capture_on_commit_callbacks(execute=True):
        save(client, ticket, internal_note="Customer is on the old cluster")
    note = ticket.messages.get(is_internal=True)
    assert note.body == "Customer is on the old cluster"
    assert django_mail.outbox == []
    client.force_login(alice)
    page = client.get(reverse("support:ticket", args=[ticket.pk])).content.decode()
    assert "old cluster" not in page


def test_staff_reply_files_go_with_the_reply(client, charlie, ticket):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(charlie)
    save(
        client,
        ticket,
        reply="Here is the report.",
        reply_files=[SimpleUploadedFile("report.pdf", PDF_BYTES)],
    )
    staff_message = ticket.messages.get(from_staff=True)
    assert [a.filename for a in staff_message.attachments.all()] == ["report.pdf"]


def test_the_queue_puts_the_longest_waiting_ticket_first(
    client, charlie, alice, support_department
):
    from datetime import timedelta

    from django.utils import timezone

    tickets = [
        services.ticket_open(user=alice, department=support_department, subject=s, body="b")
        for s in ("Recent", "Oldest", "Middle")
    ]
    now = timezone.now()
    for ticket, hours in zip(tickets, (1, 30, 5), strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(waiting_since=now - timedelta(hours=hours))
    client.force_login(charlie)
    page = client.get(reverse("admin:support_ticket_changelist"), {"queue": "waiting"}).content
    page = page.decode()
    assert page.index("Oldest") < page.index("Middle") < page.index("Recent")
    assert "1\xa0day, 6\xa0hours" in page


def test_assign_and_merge_through_admin_actions(client, charlie, alice, support_department):
    first = services.ticket_open(user=alice, department=support_department, subject="A", body="a")
    second = services.ticket_open(user=alice, department=support_department, subject="B", body="b")
    client.force_login(charlie)
    changelist = reverse("admin:support_ticket_changelist")
    client.post(changelist, {"action": "assign_to_me", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.assigned_to == charlie

    client.post(changelist, {"action": "merge_tickets", "_selected_action": [first.pk, second.pk]})
    second.refresh_from_db()
    assert second.merged_into == first and second.status == TicketStatus.CLOSED
    bodies = list(first.messages.filter(is_internal=False).values_list("body", flat=True))
    assert bodies == ["a", "b"]
    # A later email to the merged ticket's address lands in the one it was merged into,
    # and so do the customer's page and reply form of the merged ticket.
    pipe_email(reply_email(to=addressing.reply_address(second.pk), subject="Re: B", body="c"))
    assert first.messages.filter(is_internal=False).count() == 3
    client.force_login(alice)
    response = client.get(reverse("support:ticket", args=[second.pk]))
    assert response["Location"] == reverse("support:ticket", args=[first.pk])
    client.post(reverse("support:ticket_reply", args=[second.pk]), {"body": "d"})
    assert first.messages.filter(is_internal=False).count() == 4


def test_tickets_of_two_customers_cannot_be_merged(client, charlie, alice, bob, support_department):
    first = services.ticket_open(user=alice, department=support_department, subject="A", body="a")
    second = services.ticket_open(user=bob, department=support_department, subject="B", body="b")
    client.force_login(charlie)
    response = client.post(
        reverse("admin:support_ticket_changelist"),
        {"action": "merge_tickets", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )
    assert "Only tickets of the same customer can be merged." in response.content.decode()
    second.refresh_from_db()
    assert second.merged_into is None


def test_staff_download_any_attachment_as_an_attachment(client, charlie, alice, support_department):
    services.ticket_open(
        user=alice,
        department=support_department,
        subject="s",
        body="b",
        files=[check_attachment(name="a.pdf", content=PDF_BYTES)],
    )
    attachment = Attachment.objects.get()
    client.force_login(charlie)
    response = client.get(reverse("admin:support_attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="a.pdf"'


def test_customers_cannot_open_the_support_admin_nor_its_downloads(alice_client, ticket):
    services.ticket_customer_reply(
        ticket=ticket,
        author=ticket.user,
        body="x",
        files=[check_attachment(name="a.pdf", content=PDF_BYTES)],
    )
    attachment = Attachment.objects.get()
    for url in (
        reverse("admin:support_ticket_changelist"),
        reverse("admin:support_attachment_download", args=[attachment.pk]),
    ):
        response = alice_client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_the_ticket_changelist_costs_the_same_queries_for_more_rows(
    client, charlie, alice, support_department
):
    client.force_login(charlie)
    url = reverse("admin:support_ticket_changelist")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    services.ticket_open(user=alice, department=support_department, subject="s", body="b")
    count()
    few = count()
    for n in range(15):
        services.ticket_open(user=alice, department=support_department, subject=f"t{n}", body="b")
    assert count() == few


def test_the_ticket_page_costs_the_same_queries_for_more_messages(client, charlie, ticket):
    client.force_login(charlie)
    url = reverse("admin:support_ticket_change", args=[ticket.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    count()
    few = count()
    for n in range(8):
        services.ticket_customer_reply(
            ticket=ticket,
            author=ticket.user,
            body=f"r{n}",
            files=[check_attachment(name=f"{n}.pdf", content=PDF_BYTES)],
        )
    assert count() == few
    assert Message.objects.filter(ticket=ticket).count() == 9
