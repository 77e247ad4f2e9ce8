"""Reads one email from standard input into support (a mail server's pipe, e.g. Postfix).

    support: "|/srv/onepanel/.venv/bin/python /srv/onepanel/manage.py support_receive_email"

Exit status follows sendmail's sysexits: 0 taken (or deliberately ignored), 65 (EX_DATAERR)
unreadable, 75 (EX_TEMPFAIL) when the database is unavailable, so the server retries later.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from support import mail, services

EX_DATAERR = 65
EX_TEMPFAIL = 75
# Larger than any message we accept (attachments are checked one by one later).
MAX_MESSAGE_BYTES = 60 * 1024 * 1024


class Command(BaseCommand):
    help = "Reads one RFC 5322 message from standard input and files it as a ticket or reply."

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read(MAX_MESSAGE_BYTES + 1)
        if len(raw) > MAX_MESSAGE_BYTES:
            self.stderr.write("The message is larger than 60 MB; it was not read.")
            sys.exit(EX_DATAERR)
        try:
            received = services.inbound_email_receive(raw=raw)
        except mail.UnreadableEmail as error:
            self.stderr.write(str(error))
            sys.exit(EX_DATAERR)
        except DatabaseError:
            self.stderr.write("The database is unavailable; the mail server will retry.")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"{received.get_outcome_display()} (ticket {received.ticket_id or '-'})")
