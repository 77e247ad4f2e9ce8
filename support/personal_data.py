"""What support/ holds about a customer, for GDPR export and erasure (privacy/ calls these)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils.formats import date_format

from accounts.models import User
from core.personal import ErasureBlocker, ExportFile

from .models import (
    OPEN_STATUSES,
    WAITING_FOR_STAFF,
    Attachment,
    AutoAnswer,
    InboundEmail,
    Message,
    PrivacyRequestType,
    RestrictionRecord,
    Ticket,
)

MODELS = (Ticket, Message, Attachment, InboundEmail, AutoAnswer, RestrictionRecord)


def export(user: User) -> dict[str, Any]:
    """Every ticket with the messages the customer can see and their file names."""
    tickets = (
        Ticket.objects.filter(user=user)
        .select_related("department")
        .prefetch_related("messages__attachments")
        .order_by("created_at")
    )
    return {
        "tickets": [
            {
                "reference": ticket.reference,
                "subject": ticket.subject,
                "department": ticket.department.name,
                "status": ticket.status,
                "request_type": ticket.request_type,
                "created_at": ticket.created_at.isoformat(),
                "messages": [
                    {
                        "from": "staff" if message.from_staff else "customer",
                        "created_at": message.created_at.isoformat(),
                        "from_address": message.from_address,
                        "body": message.body,
                        "attachments": [
                            {
                                "filename": a.filename,
                                "content_type": a.content_type,
                                "size": a.size,
                                "path": _zip_path(ticket_id=ticket.pk, attachment=a),
                            }
                            for a in message.attachments.all()
                        ],
                    }
                    for message in ticket.messages.all()
                    if not message.is_internal
                ],
            }
            for ticket in tickets
        ],
        "restriction_of_processing": [
            {"action": record.action, "recorded_at": record.recorded_at.isoformat()}
            for record in RestrictionRecord.objects.filter(user=user)
        ],
    }


def _zip_path(*, ticket_id: int, attachment: Attachment) -> str:
    """Where the file is in the export zip; export.json names the same path."""
    return f"support/T-{ticket_id}/{attachment.pk}-{attachment.filename}"


def export_files(user: User) -> Iterator[ExportFile]:
    """The customer's attachments on messages they can see, for the export zip; each is
    opened from storage only when the zip is written, and copied in chunks."""
    attachments = (
        Attachment.objects.filter(message__ticket__user=user, message__is_internal=False)
        .select_related("message")
        .order_by("pk")
        .iterator(chunk_size=500)
    )
    for attachment in attachments:
        yield ExportFile(
            path=_zip_path(ticket_id=attachment.message.ticket_id, attachment=attachment),
            open=partial(attachment.file.open, "rb"),
        )


def erasure_blockers(user: User) -> list[ErasureBlocker]:
    """What support will not let an erasure lose without the customer choosing to.

    - An undecided privacy request (correct, update, restrict, object): a request under
      GDPR Art. 12(3) we must answer, and whose answer we must be able to show (Art.
      5(2)); a restriction is often asked *instead of* erasure (Art. 18(1)(b)), so the
      two cannot run at once. The customer waits for our decision or withdraws it by
      closing the ticket.
    - A ticket whose next move is ours (open, awaiting our answer): erasing it would
      delete the question unanswered, and the reply would go to an address we no
      longer hold. The customer closes it (nothing more is needed) or waits for us.

    A ticket awaiting the customer's own answer does not block: they have our reply.
    """
    blockers = []
    waiting = list(
        Ticket.objects.filter(user=user, status__in=OPEN_STATUSES)
        .filter(request_decision="")
        .exclude(request_type="")
        .order_by("pk")
    )
    for ticket in waiting:
        due = date_format(ticket.request_due_at, "j F Y") if ticket.request_due_at else ""
        blockers.append(
            ErasureBlocker(
                reason=(
                    f"Your request “{PrivacyRequestType(ticket.request_type).label}” "
                    f"({ticket.reference}) is not answered yet"
                    + (f"; our answer is due by {due}." if due else ".")
                ),
                how_to_clear=(
                    "Wait for our answer, or withdraw the request by closing the ticket."
                ),
                url=reverse("support:ticket", args=[ticket.pk]),
            )
        )
    unanswered = list(
        Ticket.objects.filter(user=user, status__in=WAITING_FOR_STAFF)
        .exclude(pk__in=[ticket.pk for ticket in waiting])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if unanswered:
        many = len(unanswered) > 1
        blockers.append(
            ErasureBlocker(
                reason=(
                    f"{len(unanswered)} ticket{'s' if many else ''} "
                    f"({', '.join(f'[#T-{pk}]' for pk in unanswered)}) "
                    f"{'are' if many else 'is'} waiting for our answer."
                ),
                how_to_clear=(
                    "Close the tickets you no longer need an answer to (their messages are "
                    "erased with your account), or wait for our reply."
                ),
                url=reverse("support:tickets"),
            )
        )
    return blockers


@transaction.atomic
def erase(user: User) -> None:
    """Removes the customer's words and files; each ticket keeps a staff note that it existed.

    Message bodies (theirs and staff's, which quote them), the original emails and every
    attachment go, files included; the subject becomes the reference only. Staff notes are
    replaced by one note saying the ticket existed. The intake log's rows for the customer's
    address go too. Restriction records stay: they prove how a request was honoured.
    """
    # The intake log and the automatic-answer ceiling hold the address itself.
    InboundEmail.objects.filter(from_address__iexact=user.email).delete()
    AutoAnswer.objects.filter(address__iexact=user.email).delete()
    tickets = list(Ticket.objects.filter(user=user).values_list("pk", flat=True))
    if not tickets:
        return
    InboundEmail.objects.filter(ticket__in=tickets).delete()
    for attachment in Attachment.objects.filter(message__ticket__in=tickets):
        attachment.file.delete(save=False)
    Attachment.objects.filter(message__ticket__in=tickets).delete()
    Message.objects.filter(ticket__in=tickets).delete()
    Message.objects.bulk_create(
        Message(
            ticket_id=pk,
            from_staff=True,
            is_internal=True,
            source="staff",
            body="A ticket existed here; its messages and files were erased at the "
            "customer's request.",
        )
        for pk in tickets
    )
    for pk in tickets:
        Ticket.objects.filter(pk=pk).update(subject=f"Erased ticket #{pk}", guest_name="")
