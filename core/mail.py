"""The console mailer of the embedded default, printing emails as a person reads them."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend

HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date")


class ReadableConsoleEmailBackend(EmailBackend):
    """Django's console mailer prints the wire form: quoted-printable bodies whose lines
    break inside links (`=3D`, a trailing `=`). This one prints the headers and every
    text part decoded, so a confirmation link can be copied or clicked from the terminal.
    Attachments are named, not printed.
    """

    def write_message(self, message: EmailMessage) -> None:
        msg = message.message()
        lines = [f"{name}: {msg[name]}" for name in HEADERS if msg[name]]
        for part in msg.walk():
            if part.is_multipart():
                continue
            filename = part.get_filename()
            if filename or part.get_content_maintype() != "text":
                lines.append(f"\n[attachment: {filename or part.get_content_type()}]")
                continue
            lines.append(f"\n--- {part.get_content_type()} ---")
            lines.append(part.get_content().rstrip("\n"))
        self.stream.write("\n".join(lines) + "\n")
        self.stream.write("-" * 79 + "\n")
