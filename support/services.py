"""Support writes: tickets, messages, attachments, staff actions and privacy decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_lift_processing_restriction, user_restrict_processing
from billing.models import Invoice, Service
from core.exceptions import ApplicationError
from notifications.services import notify, notify_address

from . import mail
from .addressing import reply_address, ticket_id_from_address, ticket_id_from_subject
from .files import CheckedFile, check_attachment
from .models import (
    OPEN_STATUSES,
    Attachment,
    AutoAnswer,
    Department,
    InboundEmail,
    Message,
    MessageSource,
    Priority,
    PrivacyDecision,
    PrivacyRequestType,
    RestrictionRecord,
    Ticket,
    TicketStatus,
)


def _store_files(*, message: Message, files: Sequence[CheckedFile]) -> list[Attachment]:
    """Saves already-checked files into the private storage, one row each."""
    stored = []
    for checked in files:
        attachment = Attachment(
            message=message,
            filename=checked.name,
            content_type=checked.content_type,
            size=len(checked.content),
        )
        attachment.file.save(checked.name, ContentFile(checked.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _thread_headers(ticket: Ticket) -> dict[str, str]:
    return {"Reply-To": reply_address(ticket.pk)}


@transaction.atomic
def ticket_open(
    *,
    user: User | None,
    department: Department,
    subject: str,
    body: str,
    files: Sequence[CheckedFile] = (),
    priority: str = Priority.NORMAL,
    service: Service | None = None,
    invoice: Invoice | None = None,
    request_type: str = "",
    source: str = MessageSource.WEB,
    guest_email: str = "",
    guest_name: str = "",
    from_address: str = "",
    original: str = "",
    email_message_id: str = "",
) -> Ticket:
    """Opens a ticket with its first message and files, in one transaction.

    A linked service or invoice must be the customer's own; a privacy request type is
    only for a department that handles them, and starts the one-month clock of
    GDPR art. 12(3).
    """
    if (service and service.user_id != getattr(user, "pk", None)) or (
        invoice and invoice.user_id != getattr(user, "pk", None)
    ):
        raise ApplicationError("A ticket can only refer to your own services and invoices.")
    if request_type and not department.handles_privacy_requests:
        raise ApplicationError(f"The {department.name} department does not take privacy requests.")
    if request_type and request_type not in PrivacyRequestType.values:
        raise ApplicationError("Choose one of the privacy request types.")
    now = timezone.now()
    ticket = Ticket.objects.create(
        user=user,
        guest_email=guest_email,
        guest_name=guest_name,
        department=department,
        subject=subject.strip()[:200] or "(no subject)",
        priority=priority,
        service=service,
        invoice=invoice,
        request_type=request_type,
        request_due_at=now + relativedelta(months=1) if request_type else None,
        status=TicketStatus.OPEN,
        created_at=now,
        updated_at=now,
        waiting_since=now,
    )
    message = Message.objects.create(
        ticket=ticket,
        author=user,
        source=source,
        from_address=from_address,
        body=body,
        original=original,
        email_message_id=email_message_id,
        created_at=now,
    )
    _store_files(message=message, files=files)
    return ticket


@transaction.atomic
def ticket_customer_reply(
    *,
    ticket: Ticket,
    author: User | None,
    body: str,
    files: Sequence[CheckedFile] = (),
    source: str = MessageSource.WEB,
    from_address: str = "",
    original: str = "",
    email_message_id: str = "",
) -> Message:
    """Adds the customer's message; a closed ticket reopens, and it waits for staff.

    The customer is not sent a copy of what they wrote.
    """
    now = timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        source=source,
        from_address=from_address,
        body=body,
        original=original,
        email_message_id=email_message_id,
        created_at=now,
    )
    _store_files(message=message, files=files)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.AWAITING_STAFF,
        updated_at=now,
        waiting_since=ticket.waiting_since or now,
        closed_at=None,
    )
    return message


@transaction.atomic
def ticket_staff_reply(
    *, ticket: Ticket, staff: User, body: str, files: Sequence[CheckedFile] = ()
) -> Message:
    """Staff answer: the customer gets it by email with a Reply-To that threads back."""
    if not body.strip():
        raise ApplicationError("Write a reply first.")
    now = timezone.now()
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("user").get(pk=ticket.pk)
    message = Message.objects.create(
        ticket=ticket, author=staff, from_staff=True, source=MessageSource.STAFF, body=body
    )
    attachments = _store_files(message=message, files=files)
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.AWAITING_CUSTOMER, updated_at=now, waiting_since=None, closed_at=None
    )
    context = {"ticket": ticket, "message": message, "attachments": attachments}
    if ticket.user is not None:
        notify(
            user=ticket.user, kind="support-staff-reply", context=context,
            headers=_thread_headers(ticket),
        )  # fmt: skip
    else:
        notify_address(
            email=ticket.guest_email,
            kind="support-staff-reply",
            context=context,
            headers=_thread_headers(ticket),
        )
    return message


@transaction.atomic
def ticket_add_note(*, ticket: Ticket, staff: User, body: str) -> Message:
    """An internal note: staff only, never shown or sent to the customer."""
    if not body.strip():
        raise ApplicationError("Write the note first.")
    return Message.objects.create(
        ticket=ticket,
        author=staff,
        from_staff=True,
        is_internal=True,
        source=MessageSource.STAFF,
        body=body,
    )


@transaction.atomic
def ticket_close(*, ticket: Ticket) -> Ticket:
    """Closes the ticket (idempotent); a later reply from either side reopens it."""
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk, status__in=OPEN_STATUSES).update(
        status=TicketStatus.CLOSED, closed_at=now, updated_at=now, waiting_since=None
    )
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket) -> Ticket:
    """Reopens a closed ticket; it waits for staff again (idempotent)."""
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk, status=TicketStatus.CLOSED).update(
        status=TicketStatus.AWAITING_STAFF, closed_at=None, updated_at=now, waiting_since=now
    )
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, staff: User | None) -> Ticket:
    if staff is not None and not staff.is_staff:
        raise ApplicationError("Tickets can only be assigned to staff.")
    Ticket.objects.filter(pk=ticket.pk).update(assigned_to=staff)
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, staff: User) -> Ticket:
    """Moves every message of `source` into `target` and closes `source` as merged.

    Both must belong to the same customer (or guest address). Notes on both tickets
    say what happened.
    """
    if source.pk == target.pk:
        raise ApplicationError("A ticket cannot be merged into itself.")
    if (source.user_id, source.guest_email) != (target.user_id, target.guest_email):
        raise ApplicationError("Only tickets of the same customer can be merged.")
    if target.merged_into_id:
        raise ApplicationError(
            f"Ticket #{target.pk} was itself merged; merge into #{target.merged_into_id}."
        )
    now = timezone.now()
    Message.objects.filter(ticket=source).update(ticket=target)
    Ticket.objects.filter(pk=source.pk).update(
        merged_into=target,
        status=TicketStatus.CLOSED,
        closed_at=now,
        updated_at=now,
        waiting_since=None,
    )
    waiting = [t.waiting_since for t in (source, target) if t.waiting_since]
    Ticket.objects.filter(pk=target.pk).update(
        updated_at=now, waiting_since=min(waiting) if waiting else target.waiting_since
    )
    ticket_add_note(
        ticket=target,
        staff=staff,
        body=f"Ticket #{source.pk} ({source.subject}) was merged into this one.",
    )
    ticket_add_note(ticket=source, staff=staff, body=f"Merged into ticket #{target.pk}.")
    target.refresh_from_db()
    return target


@transaction.atomic
def privacy_request_decide(*, ticket: Ticket, staff: User, decision: str) -> Ticket:
    """Records staff's answer to a privacy request (once).

    Accepting a restriction of processing sets the customer's flag through accounts,
    which stops marketing, suggestions and measurements, and is recorded.
    """
    if decision not in (PrivacyDecision.ACCEPTED, PrivacyDecision.DECLINED):
        raise ApplicationError("Accept or decline the request.")
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("user").get(pk=ticket.pk)
    if not ticket.request_type:
        raise ApplicationError("This ticket is not a privacy request.")
    if ticket.request_decision:
        raise ApplicationError("This request has already been decided.")
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        request_decision=decision, request_decided_at=now, request_decided_by=staff
    )
    if (
        decision == PrivacyDecision.ACCEPTED
        and ticket.request_type == PrivacyRequestType.RESTRICT
        and ticket.user is not None
    ):
        processing_restriction_set(user=ticket.user, staff=staff, ticket=ticket)
    ticket_add_note(
        ticket=ticket,
        staff=staff,
        body=f"Privacy request ({ticket.get_request_type_display()}) {decision}.",
    )
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def processing_restriction_set(*, user: User, staff: User, ticket: Ticket | None = None) -> bool:
    """Sets the restriction and records who did it; False if it was already set."""
    changed = user_restrict_processing(user=user)
    if changed:
        RestrictionRecord.objects.create(
            user=user, action=RestrictionRecord.Action.SET, ticket=ticket, staff=staff
        )
    return changed


@transaction.atomic
def processing_restriction_lift(*, user: User, staff: User, ticket: Ticket | None = None) -> bool:
    """Lifts the restriction and records who did it; False if none was set."""
    changed = user_lift_processing_restriction(user=user)
    if changed:
        RestrictionRecord.objects.create(
            user=user, action=RestrictionRecord.Action.LIFTED, ticket=ticket, staff=staff
        )
    return changed


def auto_answer_allowed(*, address: str, hours: int) -> bool:
    """RFC 3834: may we send this address an automatic answer now? Records it if so.

    One row per address, locked while deciding, so two workers never both say yes: at
    most one automatic answer per address per period.
    """
    now = timezone.now()
    with transaction.atomic():
        row, created = AutoAnswer.objects.get_or_create(
            address=address.lower(), defaults={"sent_at": now}
        )
        if created:
            return True
        row = AutoAnswer.objects.select_for_update().get(pk=row.pk)
        if row.sent_at > now - timedelta(hours=hours):
            return False
        AutoAnswer.objects.filter(pk=row.pk).update(sent_at=now)
    return True


def _department_for_email() -> Department:
    department = Department.objects.filter(slug=settings.SUPPORT_EMAIL_DEPARTMENT).first()
    if department is None:
        raise ApplicationError(
            f"SUPPORT_EMAIL_DEPARTMENT names {settings.SUPPORT_EMAIL_DEPARTMENT!r}, "
            "which is not a department."
        )
    return department


def _checked_email_files(parsed: mail.InboundEmail) -> tuple[list[CheckedFile], list[str]]:
    """The attachments we keep, and a line for each we refused (shown in the thread)."""
    kept: list[CheckedFile] = []
    refused: list[str] = []
    for attachment in parsed.attachments:
        if len(kept) >= settings.SUPPORT_ATTACHMENTS_PER_MESSAGE:
            refused.append(f"“{attachment.filename}” was not kept: too many files in one email.")
            continue
        try:
            kept.append(check_attachment(name=attachment.filename, content=attachment.content))
        except ApplicationError as error:
            refused.append(f"{error.message} It was not kept.")
    return kept, refused


def _ticket_replied_to(parsed: mail.InboundEmail) -> Ticket | None:
    """The ticket an email answers: by its signed reply address, else by the subject token
    when the sender is the ticket's own address. A merged ticket leads to its target."""
    ticket = None
    for address in parsed.recipients:
        ticket_id = ticket_id_from_address(address)
        if ticket_id is not None:
            ticket = Ticket.objects.select_related("user").filter(pk=ticket_id).first()
            break
    if ticket is None and (ticket_id := ticket_id_from_subject(parsed.subject)) is not None:
        candidate = Ticket.objects.select_related("user").filter(pk=ticket_id).first()
        if candidate is not None and candidate.contact_email.lower() == parsed.from_address:
            ticket = candidate
    for _ in range(5):  # follow merges (never a cycle: a merged ticket is never a target)
        if ticket is None or ticket.merged_into_id is None:
            break
        ticket = Ticket.objects.select_related("user").get(pk=ticket.merged_into_id)
    return ticket


def _auto_answer(
    *, parsed: mail.InboundEmail, kind: str, user: User | None, ticket: Ticket | None
) -> None:
    """An automatic answer (RFC 3834): never to a null return path, at most one per address
    per period, marked Auto-Submitted so the other side's robots stay quiet."""
    to = parsed.reply_address
    if not to or not auto_answer_allowed(address=to, hours=settings.SUPPORT_AUTO_ANSWER_HOURS):
        return
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if parsed.message_id:
        headers |= {"In-Reply-To": parsed.message_id, "References": parsed.message_id}
    if ticket is not None:
        headers |= _thread_headers(ticket)
    context = {"ticket": ticket}
    if user is not None and to == user.email.lower():
        notify(user=user, kind=kind, context=context, headers=headers)
    else:
        notify_address(email=to, kind=kind, context=context, headers=headers)


def _log(
    parsed: mail.InboundEmail, outcome: str, *, reason: str = "", ticket: Ticket | None = None
) -> InboundEmail:
    return InboundEmail.objects.create(
        from_address=parsed.from_address[:254],
        subject=parsed.subject[:255],
        message_id=parsed.message_id,
        outcome=outcome,
        reason=reason[:255],
        ticket=ticket,
    )


@transaction.atomic
def inbound_email_receive(*, raw: bytes) -> InboundEmail:
    """Turns one email into a reply, a new ticket, or a logged refusal; never raises for
    the content of the email (mail.UnreadableEmail aside).

    Auto-replies, bounces and list mail are logged and never answered. A reply threads
    by its signed reply address or subject token; mail from a customer's address opens a
    ticket in SUPPORT_EMAIL_DEPARTMENT; an unknown sender gets a guest ticket or a polite
    answer (SUPPORT_UNKNOWN_SENDERS). A second delivery of the same Message-ID is a no-op.
    """
    parsed = mail.parse(raw)
    Outcome = InboundEmail.Outcome
    if parsed.message_id and (
        Message.objects.filter(email_message_id=parsed.message_id).exists()
        or InboundEmail.objects.filter(message_id=parsed.message_id).exists()
    ):
        return _log(parsed, Outcome.DUPLICATE, reason="Message-ID already received")
    if parsed.automatic_reason:
        return _log(parsed, Outcome.AUTOMATED, reason=parsed.automatic_reason)

    files, refused = _checked_email_files(parsed)
    body = "\n\n".join([parsed.trimmed_text or "(no text)", *refused])
    ticket = _ticket_replied_to(parsed)
    if ticket is not None:
        author = ticket.user if ticket.contact_email.lower() == parsed.from_address else None
        ticket_customer_reply(
            ticket=ticket,
            author=author,
            body=body,
            files=files,
            source=MessageSource.EMAIL,
            from_address=parsed.from_address[:254],
            original=parsed.text,
            email_message_id=parsed.message_id,
        )
        return _log(parsed, Outcome.REPLY, ticket=ticket)

    since = timezone.now() - timedelta(hours=1)
    recent = InboundEmail.objects.filter(
        from_address=parsed.from_address, outcome=Outcome.NEW_TICKET, received_at__gte=since
    ).count()
    if recent >= settings.SUPPORT_NEW_TICKETS_PER_ADDRESS_HOUR:
        return _log(parsed, Outcome.THROTTLED, reason=f"{recent} new tickets in the last hour")

    user = User.objects.filter(email__iexact=parsed.from_address, is_active=True).first()
    if user is None and settings.SUPPORT_UNKNOWN_SENDERS != "guest":
        _auto_answer(parsed=parsed, kind="support-unknown-sender", user=None, ticket=None)
        return _log(parsed, Outcome.UNKNOWN_SENDER)
    ticket = ticket_open(
        user=user,
        guest_email="" if user else parsed.from_address[:254],
        guest_name="" if user else parsed.from_name[:150],
        department=_department_for_email(),
        subject=parsed.subject or "(no subject)",
        body=body,
        files=files,
        source=MessageSource.EMAIL,
        from_address=parsed.from_address[:254],
        original=parsed.text,
        email_message_id=parsed.message_id,
    )
    _auto_answer(parsed=parsed, kind="support-ticket-received", user=user, ticket=ticket)
    return _log(parsed, Outcome.NEW_TICKET, ticket=ticket)
