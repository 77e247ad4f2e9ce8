"""Email into support: the pipe command, threading, automatic mail, loops, unknown senders."""

from __future__ import annotations

import pytest
from django.core import mail as django_mail

from notifications.models import OutboxMessage
from support import addressing, services
from support.models import Attachment, InboundEmail, Message, Ticket, TicketStatus
from tests.factories import UserFactory
from tests.helpers import PDF_BYTES, eml, pipe_email, png_bytes, reply_email, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", full_name="Alice Archer")


def test_a_multipart_email_piped_into_the_command_opens_the_right_ticket_with_both_files(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = pipe_email(eml("customer_with_files.eml"))

    ticket = Ticket.objects.get()
    assert "Opened a ticket" in output
    assert ticket.user == alice
    assert ticket.department.slug == "support"
    assert ticket.subject == "Problème de facturation – café ☕"
    message = ticket.messages.get()
    assert message.source == "email"
    assert message.email_message_id == "<a1b2c3d4-0001@mail.example.com>"
    # Quoted-printable decoded; the signature trimmed from the thread, kept for staff.
    assert "capture d'écran — merci de regarder rapidement." in message.body
    assert "Archer Café Ltd" not in message.body
    assert "Archer Café Ltd" in message.original
    files = {a.filename: a for a in Attachment.objects.filter(message=message)}
    assert set(files) == {"facture-décembre.pdf", "capture.png"}
    assert files["facture-décembre.pdf"].content_type == "application/pdf"
    assert files["facture-décembre.pdf"].file.read() == PDF_BYTES
    assert files["capture.png"].file.read() == png_bytes()
    assert len(stored_files()) == 2
    # One acknowledgment, with the address that threads back.
    assert len(django_mail.outbox) == 1
    ack = django_mail.outbox[0]
    assert ack.to == ["alice@example.com"]
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["Reply-To"] == addressing.reply_address(ticket.pk)
    assert ticket.reference in ack.subject


def test_a_second_delivery_of_the_same_email_is_ignored(alice):
    pipe_email(eml("customer_with_files.eml"))
    pipe_email(eml("customer_with_files.eml"))
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.filter(outcome="duplicate").count() == 1


def test_a_reply_to_the_signed_address_threads_into_its_ticket(alice, support_department):
    ticket = services.ticket_open(user=alice, department=support_department, subject="S", body="b")
    services.ticket_close(ticket=ticket)
    raw = reply_email(
        to=addressing.reply_address(ticket.pk),
        subject="Re: something else entirely",
        body="It works again, thanks.\n\nOn Tue, Dec 1, 2026, Support wrote:\n> Try now.\n",
    )
    pipe_email(raw)
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1
    assert list(ticket.messages.values_list("body", flat=True)) == ["b", "It works again, thanks."]
    assert "> Try now." in ticket.messages.last().original
    assert ticket.status == TicketStatus.AWAITING_STAFF  # a closed ticket reopens on a reply


def test_a_reply_with_the_subject_token_threads_from_the_owners_address(alice, support_department):
    ticket = services.ticket_open(user=alice, department=support_department, subject="S", body="b")
    pipe_email(
        reply_email(to="support@onepanel.test", subject=f"Re: S {ticket.reference}", body="More")
    )
    assert ticket.messages.count() == 2


def test_a_subject_token_from_another_address_does_not_thread(alice, support_department):
    ticket = services.ticket_open(user=alice, department=support_department, subject="S", body="b")
    UserFactory(email="mallory@example.com")
    pipe_email(
        reply_email(
            to="support@onepanel.test",
            subject=f"Re: S {ticket.reference}",
            body="Let me in",
            sender="mallory@example.com",
        )
    )
    assert ticket.messages.count() == 1
    assert Ticket.objects.get(user__email="mallory@example.com").subject.startswith("Re: S")


def test_a_forged_signature_does_not_thread(alice, support_department):
    ticket = services.ticket_open(user=alice, department=support_department, subject="S", body="b")
    forged = f"support+{ticket.pk}.00000000000000000000@onepanel.test"
    pipe_email(reply_email(to=forged, subject="Hi", body="x", sender="alice@example.com"))
    assert ticket.messages.count() == 1
    assert Ticket.objects.count() == 2


@pytest.mark.parametrize("name", ["auto_reply.eml", "bounce.eml"])
def test_auto_replies_and_bounces_are_ignored_and_never_answered(
    alice, support_department, django_capture_on_commit_callbacks, name
):
    ticket = services.ticket_open(user=alice, department=support_department, subject="S", body="b")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = pipe_email(eml(name))
    assert "Ignored: auto-reply or bounce" in output
    assert ticket.messages.count() == 1
    assert Ticket.objects.count() == 1
    assert callbacks == []
    assert django_mail.outbox == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X-Autoreply": "yes"},
        {"Auto-Submitted": "auto-generated"},
        {"Return-Path": "<>"},
        {"List-Id": "<news.example.com>"},
    ],
)
def test_every_kind_of_automatic_mail_is_recognised(alice, headers):
    raw = reply_email(to="support@onepanel.test", subject="Hello", body="x", **headers)
    pipe_email(raw)
    assert InboundEmail.objects.get().outcome == "automated"
    assert not Ticket.objects.exists()
    assert django_mail.outbox == []


def test_auto_submitted_no_is_a_person(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pipe_email(
            reply_email(to="support@onepanel.test", subject="Hi", body="x", Auto_Submitted="no")
        )
    assert Ticket.objects.count() == 1


def test_a_loop_of_50_messages_from_a_customer_gets_at_most_one_answer(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(50):
            pipe_email(reply_email(to="support@onepanel.test", subject=f"Loop {n}", body="again"))
    assert len(django_mail.outbox) == 1
    # The per-address ceiling stops the loop from filling the queue with tickets.
    assert Ticket.objects.count() == 10
    assert InboundEmail.objects.filter(outcome="throttled").count() == 40


def test_a_loop_of_50_messages_from_an_unknown_address_gets_at_most_one_answer(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(50):
            pipe_email(
                reply_email(
                    to="support@onepanel.test",
                    subject=f"Loop {n}",
                    body="again",
                    sender="robot@elsewhere.example",
                )
            )
    assert len(django_mail.outbox) == 1
    assert django_mail.outbox[0].to == ["robot@elsewhere.example"]
    assert not Ticket.objects.exists()


def test_an_unknown_sender_gets_one_polite_answer_by_default(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = pipe_email(
            reply_email(
                to="support@onepanel.test", subject="Hi", body="x", sender="new@else.example"
            )
        )
    assert "Unknown sender answered" in output
    assert not Ticket.objects.exists()
    answer = django_mail.outbox[0]
    assert answer.to == ["new@else.example"]
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "could not find an account" in answer.body


def test_an_unknown_sender_opens_a_guest_ticket_when_configured(
    db, settings, charlie, django_capture_on_commit_callbacks
):
    settings.SUPPORT_UNKNOWN_SENDERS = "guest"
    with django_capture_on_commit_callbacks(execute=True):
        pipe_email(
            reply_email(
                to="support@onepanel.test",
                subject="Before I buy",
                body="Do you host Django?",
                sender="Guest Person <guest@else.example>",
            )
        )
        ticket = Ticket.objects.get()
        assert (ticket.user, ticket.guest_email, ticket.guest_name) == (
            None,
            "guest@else.example",
            "Guest Person",
        )
        services.ticket_staff_reply(ticket=ticket, staff=charlie, body="We do.")
    assert [m.to for m in django_mail.outbox] == [["guest@else.example"], ["guest@else.example"]]
    assert django_mail.outbox[1].extra_headers["Reply-To"] == addressing.reply_address(ticket.pk)
    assert "We do." in django_mail.outbox[1].body


def test_an_html_only_email_is_turned_into_text(alice):
    pipe_email(eml("html_only.eml"))
    message = Message.objects.get()
    assert "Hello team," in message.body
    assert "My DNS zone is empty." in message.body
    assert "<" not in message.body and "alert" not in message.body


def test_a_refused_attachment_is_named_in_the_thread_and_not_stored(alice):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "alice@example.com"
    message["To"] = "support@onepanel.test"
    message["Subject"] = "Files"
    message.set_content("See attached")
    message.add_attachment(
        b"MZ\x90\x00program", maintype="application", subtype="pdf", filename="x.pdf"
    )
    message.add_attachment(png_bytes(), maintype="image", subtype="png", filename="ok.png")
    pipe_email(message.as_bytes())
    stored = Message.objects.get()
    assert "“x.pdf” is not a kind of file we accept" in stored.body
    assert [a.filename for a in stored.attachments.all()] == ["ok.png"]
    assert len(stored_files()) == 1


def test_an_email_without_a_sender_exits_with_a_data_error(db):
    with pytest.raises(SystemExit) as exit_info:
        pipe_email(b"Subject: nobody\r\n\r\nhello\r\n")
    assert exit_info.value.code == 65
