"""The bytes the outbox writes for an email (notifications.mime), read back with the
standard library's parser: encodings, folding and the headers mail clients act on."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage, MIMEPart
from email.utils import parsedate_to_datetime

import pytest

from notifications import mime
from notifications.delivery import messages_deliver
from notifications.models import Category, ConsentChannel, OutboxMessage, Status
from notifications.services import notify, preferences_update
from tests.factories import UserFactory

SUBJECT = "Ihre Rechnung für Zoë Müller über 12,00 € ist bereit, bitte laden Sie sie herunter"
SENDER_NAME = "Zoë's Hösting Müller-Lüdenscheidt Rechenzentrum GmbH & Co. KG"
TEXT = "Hallo Zoë,\n\nIhre Rechnung über 12,00 € ist bereit: " + "x" * 120 + "\n\n= Ende.\n"
HTML = "<p>Hallo Zoë,</p>\n<p>Ihre Rechnung über 12,00 € ist bereit.</p>\n"


def build(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "sender": f"{SENDER_NAME} <billing@example.com>",
        "recipient": "zoe@example.com",
        "subject": SUBJECT,
        "text": TEXT,
        "html": HTML,
        "headers": {},
        "message_id": "<1.outbox-7@mail.example.com>",
        "date": datetime(2026, 12, 1, 15, 30, tzinfo=UTC),
    }
    return mime.email_bytes(**(fields | overrides))  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def header_lines(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii").split("\r\n")


def decoded(part: MIMEPart) -> str:
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def test_it_writes_7_bit_clean_bytes_with_crlf_line_ends():
    raw = build()

    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_a_non_ascii_subject_and_display_name_are_rfc_2047_encoded():
    raw = build()
    lines = header_lines(raw)

    assert any(line.startswith("Subject: =?utf-8?") for line in lines)
    assert all(len(word) <= 75 for word in re.findall(r"=\?utf-8\?[qb]\?[^?]*\?=", raw.decode()))
    parsed = parse(raw)
    assert parsed["Subject"] == SUBJECT
    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (SENDER_NAME, "billing@example.com")
    assert parsed["To"].addresses[0].addr_spec == "zoe@example.com"
    assert not parsed.defects


def test_long_headers_are_folded_and_read_back_whole():
    ascii_subject = "Your invoice INV-2026-000123 for Business Plus (annual) " * 3
    for subject in (SUBJECT, ascii_subject.strip()):
        raw = build(subject=subject)
        lines = header_lines(raw)

        assert all(len(line) <= 78 for line in lines), lines
        assert any(line.startswith(" ") for line in lines)  # continuation lines
        assert parse(raw)["Subject"] == subject.strip()


def test_an_ascii_display_name_with_specials_is_quoted():
    parsed = parse(build(sender='"OnePanel, Billing" <billing@example.com>'))

    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("OnePanel, Billing", "billing@example.com")


def test_a_non_ascii_domain_is_written_in_idna():
    parsed = parse(build(recipient="zoe@exämple.com"))

    assert parsed["To"].addresses[0].addr_spec == "zoe@xn--exmple-cua.com"


def test_it_carries_message_id_and_date():
    parsed = parse(build())

    assert parsed["Message-ID"] == "<1.outbox-7@mail.example.com>"
    assert parsedate_to_datetime(parsed["Date"]) == datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert parsed["MIME-Version"] == "1.0"


def test_text_and_html_are_utf_8_alternatives():
    parsed = parse(build())

    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert decoded(plain) == TEXT
    assert decoded(html) == HTML


def test_a_message_without_html_is_a_single_text_part():
    parsed = parse(build(html="", text="Short and plain.\n"))

    assert parsed.get_content_type() == "text/plain"
    assert parsed["Content-Transfer-Encoding"] == "7bit"
    assert decoded(parsed) == "Short and plain.\n"


def test_a_header_with_a_line_break_is_refused():
    with pytest.raises(ValueError, match="newlines"):
        build(subject="Hello\r\nBcc: everyone@example.com")
    with pytest.raises(ValueError, match="newlines"):
        build(headers={"Reply-To": "a@example.com\nBcc: everyone@example.com"})


@pytest.mark.django_db
def test_marketing_mail_reaches_the_server_with_literal_one_click_headers(smtp_server, settings):
    settings.SITE_URL = "https://panel.example.com"
    settings.DEFAULT_FROM_EMAIL = f'"{SENDER_NAME}" <billing@example.com>'
    customer = UserFactory(email="zoe@example.com", full_name="Zoë Müller")
    preferences_update(
        user=customer,
        choices={"marketing_email": True},
        channel=ConsentChannel.PREFERENCES_PAGE,
        ip_address=None,
    )
    body = "Für Zoë: alle .com-Domains zum halben Preis."
    offer = {"campaign": {"subject": SUBJECT, "body": body}}
    [row] = notify(user=customer, kind="campaign", context=offer, category=Category.MARKETING)

    assert messages_deliver(message_ids=[row.pk]) == {row.pk: Status.SENT}

    [raw] = smtp_server.recorder.raw
    url = row.headers["List-Unsubscribe"]
    # Mail clients read List-Unsubscribe literally: never as encoded-words.
    assert f"\r\nList-Unsubscribe: {url}\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    parsed = smtp_server.messages[0]
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"].addresses[0].display_name == SENDER_NAME
    assert parsed["Message-ID"] == OutboxMessage.objects.get(pk=row.pk).provider_id
    plain = parsed.get_body(("plain",))
    assert plain is not None and decoded(plain).startswith(f"{body}\n")
