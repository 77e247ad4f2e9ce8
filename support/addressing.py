"""Reply addresses that thread an answer back to its ticket.

Each ticket's emails carry Reply-To: support+<ticket id>.<signature>@<domain>, with plus
addressing on the SUPPORT_EMAIL mailbox. The signature is an HMAC of the id under the
project's secret, so nobody can guess another ticket's address from its number.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "support.reply-address"
SUBJECT_TOKEN = re.compile(r"\[#T-(\d{1,12})\]")


def _signature(ticket_id: int) -> str:
    return salted_hmac(SALT, str(ticket_id), algorithm="sha256").hexdigest()[:20]


def reply_address(ticket_id: int) -> str:
    local, _, domain = settings.SUPPORT_EMAIL.partition("@")
    return f"{local}+{ticket_id}.{_signature(ticket_id)}@{domain}"


def ticket_id_from_address(address: str) -> int | None:
    """The ticket a signed reply address belongs to; None for any other address."""
    local, _, domain = address.strip().lower().partition("@")
    base_local, _, base_domain = settings.SUPPORT_EMAIL.lower().partition("@")
    if domain != base_domain or not local.startswith(f"{base_local}+"):
        return None
    tag = local[len(base_local) + 1 :]
    ticket_id, _, signature = tag.partition(".")
    if not ticket_id.isdigit() or len(ticket_id) > 12:
        return None
    if not constant_time_compare(signature, _signature(int(ticket_id))):
        return None
    return int(ticket_id)


def ticket_id_from_subject(subject: str) -> int | None:
    found = SUBJECT_TOKEN.search(subject or "")
    return int(found.group(1)) if found else None
