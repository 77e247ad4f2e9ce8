"""support/personal_data.py: what export holds, and what erasure removes and leaves."""

from __future__ import annotations

import pytest

from support import personal_data, services
from support.files import check_attachment
from support.models import Attachment, InboundEmail, Message, Ticket
from tests.helpers import PDF_BYTES, pipe_email, reply_email, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(alice, bob, charlie, support_department):
    mine = services.ticket_open(
        user=alice,
        department=support_department,
        subject="My server",
        body="It is slow",
        files=[check_attachment(name="top.txt", content=b"load average: 9.0")],
    )
    services.ticket_staff_reply(ticket=mine, staff=charlie, body="We moved you, Alice.")
    services.ticket_add_note(ticket=mine, staff=charlie, body="Alice is a reseller")
    theirs = services.ticket_open(
        user=bob,
        department=support_department,
        subject="Bob's",
        body="Bob's words",
        files=[check_attachment(name="b.pdf", content=PDF_BYTES)],
    )
    return mine, theirs


def test_export_holds_the_customers_tickets_without_internal_notes(alice, tickets):
    data = personal_data.export(alice)
    [ticket] = data["tickets"]
    assert ticket["subject"] == "My server"
    assert [(m["from"], m["body"]) for m in ticket["messages"]] == [
        ("customer", "It is slow"),
        ("staff", "We moved you, Alice."),
    ]
    [attachment] = Attachment.objects.filter(message__ticket__user=alice)
    assert ticket["messages"][0]["attachments"] == [
        {
            "filename": "top.txt",
            "content_type": "text/plain",
            "size": 17,
            "path": f"support/T-{ticket_pk(alice)}/{attachment.pk}-top.txt",
        }
    ]
    assert "reseller" not in str(data)
    assert "Bob" not in str(data)


def ticket_pk(user) -> int:
    return Ticket.objects.get(user=user).pk


def test_erase_removes_bodies_and_files_and_leaves_a_note_that_a_ticket_existed(
    alice, bob, tickets
):
    pipe_email(reply_email(to="support@onepanel.test", subject="By mail", body="Mail words"))
    mine, theirs = tickets
    personal_data.erase(alice)

    assert Ticket.objects.filter(user=alice).count() == 2
    for ticket in Ticket.objects.filter(user=alice):
        [note] = ticket.messages.all()
        assert note.is_internal and "A ticket existed here" in note.body
        assert ticket.subject == f"Erased ticket #{ticket.pk}"
    assert not Attachment.objects.filter(message__ticket__user=alice).exists()
    assert not InboundEmail.objects.filter(from_address="alice@example.com").exists()
    # Bob's ticket and file are untouched.
    assert Message.objects.get(ticket=theirs).body == "Bob's words"
    assert [p.name for p in stored_files()] == ["b.pdf"]
    assert personal_data.export(alice)["tickets"][0]["messages"] == []


def test_every_support_model_that_points_at_a_customer_is_covered():
    from django.apps import apps
    from django.conf import settings

    with_user = {
        (model.__name__, field.name)
        for model in apps.get_app_config("support").get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and field.many_to_one
        and field.related_model._meta.label == settings.AUTH_USER_MODEL
    }
    # Adding one here means adding it to support/personal_data.py and the tests above
    # (assigned_to, request_decided_by and staff point at staff, not at the customer).
    assert with_user == {
        ("Ticket", "user"),
        ("Ticket", "assigned_to"),
        ("Ticket", "request_decided_by"),
        ("Message", "author"),
        ("RestrictionRecord", "user"),
        ("RestrictionRecord", "staff"),
    }


def test_the_export_zip_gets_the_customers_visible_attachments(alice, tickets):
    files = list(personal_data.export_files(alice))
    assert [f.path.rsplit("-", 1)[-1] for f in files] == ["top.txt"]
    with files[0].open() as handle:
        assert handle.read() == b"load average: 9.0"
