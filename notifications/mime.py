"""The bytes of an outbox email, written with the standard library's encoders.

Django's `EmailMessage.message()` builds the message on the standard library's modern
email API, which parses every header through `email.headerregistry` and folds it again
when the generator writes it: 2.6-3.0 ms a message, most of a worker's time
(docs/benchmarks.md). The outbox's messages all have one shape (a text body, an
optional HTML alternative, a handful of headers), so this writes that shape directly
and leaves the encoding to the standard library's encoders in C (`binascii`'s
quoted-printable) and to `email.header.Header` for RFC 2047 encoded-words:

- non-ASCII unstructured values (Subject) become RFC 2047 encoded-words, each at
  most 75 characters, on lines of at most 78;
- address headers keep the address as it is (its domain in IDNA) and encode only a
  non-ASCII display name; an ASCII one is quoted where RFC 5322 needs it;
- ASCII values longer than a line are folded at their spaces (RFC 5322 2.2.3), and
  never encoded: List-Unsubscribe stays `<https://...>`, which mail clients read
  literally (the modern API turned a long one into encoded-words, which they do not
  decode there);
- bodies: 7bit when ASCII with short lines, otherwise UTF-8 quoted-printable (safe
  through any relay, no 8BITMIME needed), CRLF line ends;
- a value with a line break is refused (header injection), as Django refuses it.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Mapping
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses
from functools import lru_cache

from django.utils.encoding import punycode

# RFC 5322 2.1.1: lines SHOULD be at most 78 characters; the standard library's SMTP
# policy folds at the same length.
MAX_LINE = 78
ADDRESS_HEADERS = frozenset({"from", "sender", "reply-to", "to", "cc", "resent-from", "resent-to"})
CRLF = "\r\n"
# What an atom of a display name may not contain (RFC 5322 3.2.3), and the quote.
PHRASE_SPECIALS = frozenset('()<>[]:;@\\,."')


def email_bytes(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    headers: Mapping[str, str],
    message_id: str,
    date: datetime,
) -> bytes:
    """The message as SMTP's DATA carries it (CRLF line ends, 7-bit clean).

    `sender` and `recipient` are address headers' values ("Name <a@b>" or "a@b");
    `headers` are added as given, a From or To among them replacing the default.
    """
    names = {name.lower() for name in headers}
    if "bcc" in names:
        raise ValueError("Bcc is not a valid email header.")
    lines = [
        *([] if "from" in names else [header_line("From", sender)]),
        *([] if "to" in names else [header_line("To", recipient)]),
        header_line("Subject", subject),
        header_line("Date", format_datetime(date)),
        header_line("Message-ID", message_id),
        *(header_line(name, value) for name, value in headers.items()),
        "MIME-Version: 1.0\r\n",
    ]
    head = "".join(lines).encode("ascii")
    if not html:
        return head + _part("plain", text)
    plain, rich = _part("plain", text), _part("html", html)
    boundary = _boundary(plain, rich)
    return b"".join(
        (
            head,
            _fold(f'Content-Type: multipart/alternative; boundary="{boundary}"').encode(),
            b"\r\n\r\n",
            f"--{boundary}\r\n".encode(),
            plain,
            f"\r\n--{boundary}\r\n".encode(),
            rich,
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )


def header_line(name: str, value: str) -> str:
    """One header, folded and encoded, ending in CRLF."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"Header values can't contain newlines (got {value!r} for {name!r})")
    if name.lower() in ADDRESS_HEADERS:
        value = _addresses(value)
    elif not value.isascii():
        # Header's default 76 keeps each encoded-word within RFC 2047's 75 characters.
        return f"{name}: {Header(value, 'utf-8', header_name=name).encode(linesep=CRLF)}{CRLF}"
    return _fold(f"{name}: {value}") + CRLF


def _fold(line: str) -> str:
    """An ASCII header line folded before spaces into lines of at most MAX_LINE where
    its words allow (a longer word stays whole on a line of its own; the first word
    stays beside the header's name)."""
    if len(line) <= MAX_LINE:
        return line
    name, *words = line.split(" ")
    folded: list[str] = []
    current = f"{name} {words.pop(0)}" if words else name
    for word in words:
        if len(current) + 1 + len(word) > MAX_LINE:
            folded.append(current)
            current = word
        else:
            current = f"{current} {word}"
    folded.append(current)
    return f"{CRLF} ".join(folded)


@lru_cache(maxsize=256)
def _addresses(value: str) -> str:
    """An address list written for the header: addresses as given (IDNA domains), a
    display name quoted (ASCII) or RFC 2047-encoded (non-ASCII)."""
    written = []
    for name, address in getaddresses([value]):
        if not address:
            raise ValueError(f"Invalid address {value!r}")
        local, _, domain = address.rpartition("@")
        if not local.isascii():
            raise ValueError(f"Invalid address {value!r}: a non-ASCII local part needs SMTPUTF8")
        address = f"{local}@{punycode(domain)}" if local else address
        if not name:
            written.append(address)
        elif name.isascii():
            written.append(formataddr((name, address)))
        else:
            written.append(f"{_phrase(name)} <{address}>")
    return ", ".join(written)


def _phrase(name: str) -> str:
    """A non-ASCII display name: words that may stand as atoms stay plain, each run of
    the others becomes encoded-words (spaces inside a run are encoded, as whitespace
    between adjacent encoded-words is dropped by the reader, RFC 2047 6.2)."""
    written: list[str] = []
    run: list[str] = []
    for word in [*name.split(" "), None]:
        if word is None or (word and word.isascii() and not PHRASE_SPECIALS & set(word)):
            if run:
                # At most 75 characters each (RFC 2047 2), space-separated: _fold may
                # break the line between them.
                written.append(Header(" ".join(run), "utf-8").encode(linesep="", maxlinelen=75))
                run = []
            if word is not None:
                written.append(word)
        else:
            run.append(word)
    return " ".join(written)


def _part(subtype: str, content: str) -> bytes:
    """A text part's own headers and its body, UTF-8, ending in a line break."""
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    if not content.endswith("\n"):
        content += "\n"
    if content.isascii() and all(len(line) <= MAX_LINE for line in content.split("\n")):
        encoding, body = "7bit", content.encode("ascii")
    else:
        encoding, body = "quoted-printable", binascii.b2a_qp(content.encode(), istext=True)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode() + body.replace(b"\n", b"\r\n")


def _boundary(*parts: bytes) -> str:
    """A boundary none of the parts contains ("=_" never occurs in quoted-printable)."""
    while True:
        boundary = f"=_{secrets.token_hex(16)}"
        if not any(boundary.encode() in part for part in parts):
            return boundary
