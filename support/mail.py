"""Reading one inbound email (RFC 5322 / MIME) into our own dataclass.

The standard library's email package does the parsing (multipart, encoded-word headers,
quoted-printable and base64); html2text turns an HTML-only body into text, and
mail-parser-reply trims quoted history ("On ... wrote:", in 13 languages) and signatures
from what the thread shows.
Nothing else in support/ touches a raw message.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage, Message, MIMEPart
from email.utils import getaddresses, parseaddr

import html2text
from mailparser_reply.constants import MAIL_LANGUAGES
from mailparser_reply.parser import EmailMessage as ReplyText

# Precedence values that mark bulk or automatic mail (RFC 2076, RFC 3834 section 2).
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
# Headers auto-responders set instead of (or besides) Auto-Submitted.
AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply")
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
REPLY_LANGUAGES = sorted(code for code in MAIL_LANGUAGES if len(code) == 2)


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content: bytes


@dataclass(frozen=True)
class InboundEmail:
    from_address: str
    from_name: str
    reply_address: str  # where an automatic answer may go ("" for a null return path)
    recipients: list[str]
    subject: str
    message_id: str
    text: str
    attachments: list[InboundAttachment] = field(default_factory=list)
    automatic_reason: str = ""

    @property
    def trimmed_text(self) -> str:
        """The new words only: quoted history and the signature cut off."""
        # keep_hyphen_lists: a customer's "- step one" list is not a signature.
        parsed = ReplyText(text=self.text, languages=REPLY_LANGUAGES, keep_hyphen_lists=True)
        replies = parsed.read().replies
        visible = replies[0].body.strip() if replies else ""
        return visible or self.text.strip()


class UnreadableEmail(ValueError):
    """The bytes are not an email we can read (no sender, broken headers)."""


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header the policy cannot parse
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def automatic_reason(message: EmailMessage, from_address: str) -> str:
    """Why this message was sent by a machine (and must never be answered), or ''."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(message, "Precedence").lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in AUTORESPONDER_HEADERS:
        if _header(message, name):
            return f"{name} header"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing-list message"
    if message.get_content_type() == "multipart/report":
        report = message.get_param("report-type") or "report"
        return f"delivery report ({report})"
    return_path = _header(message, "Return-Path")
    if return_path and parseaddr(return_path)[1] == "":
        return "null return path (a bounce)"
    if from_address.lower().startswith(BOUNCE_SENDERS):
        return "sent by a mail server (a bounce)"
    return ""


def _html_to_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    return converter.handle(html).strip()


def _payload_bytes(part: Message) -> bytes:
    """A leaf part's content with its transfer encoding (base64, quoted-printable) undone."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _body_text(message: EmailMessage) -> tuple[str, MIMEPart | None]:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return "", None
    try:
        content = str(body.get_content())
    except (LookupError, UnicodeError):  # an unknown charset: keep what decodes
        content = _payload_bytes(body).decode("utf-8", errors="replace")
    if body.get_content_type() == "text/html":
        content = _html_to_text(content)
    return content.replace("\r\n", "\n").strip(), body


def _attachments(message: EmailMessage, body: MIMEPart | None) -> list[InboundAttachment]:
    found = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        filename = part.get_filename()
        if part.get_content_disposition() != "attachment" and not filename:
            continue  # the other alternative of the body (e.g. its HTML twin)
        found.append(
            InboundAttachment(filename=filename or "attachment", content=_payload_bytes(part))
        )
    return found


def parse(raw: bytes) -> InboundEmail:
    """Reads one message; UnreadableEmail when it has no usable sender."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # noqa: S101 (what policy.default makes)
    from_name, from_address = parseaddr(_header(message, "From"))
    if "@" not in from_address:
        raise UnreadableEmail("The message has no sender address.")
    return_path = _header(message, "Return-Path")
    reply_to = parseaddr(return_path)[1] if return_path else from_address
    headers = [value for name in RECIPIENT_HEADERS if (value := _header(message, name))]
    recipients = [address.lower() for _, address in getaddresses(headers) if address]
    text, body = _body_text(message)
    return InboundEmail(
        from_address=from_address.lower(),
        from_name=from_name,
        reply_address=reply_to.lower(),
        recipients=recipients,
        subject=_header(message, "Subject"),
        message_id=_header(message, "Message-ID")[:255],
        text=text,
        attachments=_attachments(message, body),
        automatic_reason=automatic_reason(message, from_address),
    )
