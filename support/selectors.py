"""Support reads shared by the client area, the dashboard, the admin and the mail intake."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet, Window

from accounts.models import User
from billing import selectors as billing_selectors
from billing.models import Invoice, Service

from .models import OPEN_STATUSES, Attachment, Department, Message, Ticket, TicketStatus

# What the client area's status filter offers: "open" means any status but closed.
STATUS_FILTERS = {
    "open": Q(status__in=OPEN_STATUSES),
    TicketStatus.AWAITING_CUSTOMER.value: Q(status=TicketStatus.AWAITING_CUSTOMER),
    TicketStatus.CLOSED.value: Q(status=TicketStatus.CLOSED),
    "all": Q(),
}


def customer_tickets(*, user: User, status: str = "open") -> QuerySet[Ticket]:
    """The customer's tickets for the list, each with the count of messages they see (the
    list reads the department's name through `.values()`)."""
    return (
        Ticket.objects.filter(STATUS_FILTERS.get(status, STATUS_FILTERS["open"]), user=user)
        .annotate(
            message_count=Count("messages", filter=Q(messages__is_internal=False), distinct=True)
        )
        .order_by("-updated_at", "-pk")
    )


def open_tickets_summary(*, user: User, limit: int = 5) -> tuple[list[Ticket], dict[str, int]]:
    """The latest open tickets and the counts of all open ones, in one query (window
    aggregates over the whole filtered set ride along on each of the `limit` rows)."""
    rows = list(
        Ticket.objects.filter(user=user, status__in=OPEN_STATUSES)
        .annotate(
            open_total=Window(Count("pk")),
            awaiting_total=Window(Count("pk", filter=Q(status=TicketStatus.AWAITING_CUSTOMER))),
        )
        .order_by("-updated_at", "-pk")[:limit]
    )
    counts = {
        "open": int(rows[0].open_total) if rows else 0,
        "awaiting_customer": int(rows[0].awaiting_total) if rows else 0,
    }
    return list[Ticket](rows), counts


def thread(*, ticket: Ticket, include_internal: bool) -> list[Message]:
    """A ticket's messages with their files and authors, oldest first (two queries)."""
    messages = Message.objects.filter(ticket=ticket)
    if not include_internal:
        messages = messages.filter(is_internal=False)
    return list(
        messages.select_related("author").prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
        )
    )


def open_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


def linkable_services(*, user: User) -> QuerySet[Service]:
    """The customer's services a ticket may refer to (billing's own read, scoped to them)."""
    return billing_selectors.customer_services(user=user)


def linkable_invoices(*, user: User) -> QuerySet[Invoice]:
    return billing_selectors.customer_invoices(user=user)


def customer_attachment(*, user: User, pk: int) -> QuerySet[Attachment]:
    """One attachment the customer may download: theirs, on a message they can see."""
    return Attachment.objects.filter(
        pk=pk, message__ticket__user=user, message__is_internal=False
    ).select_related("message")


def customer_privacy_requests(*, user: User) -> QuerySet[Ticket]:
    """The customer's correction, update, restriction and objection tickets, newest first
    (shown under Account > Privacy)."""
    return Ticket.objects.filter(user=user).exclude(request_type="").order_by("-created_at", "-pk")
