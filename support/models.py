"""Support tickets: departments, threaded messages with private attachments, staff notes,
canned replies and privacy requests (GDPR arts. 16, 18 and 21) with their deadline."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.utils import timezone


def attachment_storage() -> Storage:
    """The private storage (no URL); downloads go through the views only."""
    return storages["support_attachments"]


class Department(models.Model):
    """Where a ticket goes; staff add and retire departments in the admin."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=40, unique=True)
    description = models.CharField(max_length=200, blank=True)
    handles_privacy_requests = models.BooleanField(
        default=False,
        help_text="Tickets here carry a privacy request type and the one-month deadline.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    AWAITING_STAFF = "awaiting_staff", "Awaiting our answer"
    AWAITING_CUSTOMER = "awaiting_customer", "Awaiting your answer"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.AWAITING_STAFF, TicketStatus.AWAITING_CUSTOMER)
# Tickets whose next move is ours: the waiting-time queue.
WAITING_FOR_STAFF = (TicketStatus.OPEN, TicketStatus.AWAITING_STAFF)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class PrivacyRequestType(models.TextChoices):
    CORRECT = "correct", "Correct my personal information"
    UPDATE = "update", "Update my personal information"
    RESTRICT = "restrict", "Restrict processing of my personal information"
    OBJECT = "object", "Object to processing of my personal information"


class PrivacyDecision(models.TextChoices):
    PENDING = "", "Not decided"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


def ticket_reference(pk: object) -> str:
    """The subject token replies carry for ticket `pk`, e.g. [#T-42]."""
    return f"[#T-{pk}]"


class Ticket(models.Model):
    """A conversation between one customer (or a guest address) and staff."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="support_tickets",
        help_text="Empty for a guest ticket opened by email from an unknown address.",
    )
    guest_email = models.EmailField(blank=True)
    guest_name = models.CharField(max_length=150, blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=200)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(
        max_length=20, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    service = models.ForeignKey(
        "billing.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        limit_choices_to={"is_staff": True},
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_tickets"
    )

    request_type = models.CharField(
        max_length=10, choices=PrivacyRequestType.choices, blank=True, default=""
    )
    request_due_at = models.DateTimeField(
        null=True, blank=True, help_text="GDPR art. 12(3): answer within one month of receipt."
    )
    request_decision = models.CharField(
        max_length=10, choices=PrivacyDecision.choices, blank=True, default=""
    )
    request_decided_at = models.DateTimeField(null=True, blank=True)
    request_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="Since when the customer has waited for our answer."
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "status", "-updated_at"]),
            models.Index(fields=["status", "waiting_since"]),
            models.Index(
                fields=["request_due_at"],
                name="support_open_request_due",
                condition=Q(request_decision="") & ~Q(request_type=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(guest_email=""),
                name="support_ticket_has_an_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def reference(self) -> str:
        """The subject token replies carry, e.g. [#T-42]."""
        return ticket_reference(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status != TicketStatus.CLOSED

    @property
    def contact_email(self) -> str:
        return self.user.email if self.user is not None else self.guest_email

    @property
    def request_overdue(self) -> bool:
        return bool(
            self.request_type
            and not self.request_decision
            and self.request_due_at
            and self.request_due_at < timezone.now()
        )


class MessageSource(models.TextChoices):
    WEB = "web", "Client area"
    EMAIL = "email", "Email"
    STAFF = "staff", "Staff"


class Message(models.Model):
    """One message in a ticket's thread; internal notes are for staff only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_messages",
    )
    from_staff = models.BooleanField(default=False)
    is_internal = models.BooleanField(
        default=False, help_text="An internal note: customers never see it."
    )
    source = models.CharField(max_length=10, choices=MessageSource.choices)
    from_address = models.CharField(max_length=254, blank=True)
    body = models.TextField(help_text="What the thread shows (quotes and signature trimmed).")
    original = models.TextField(
        blank=True, help_text="The full text of an email as it arrived, for staff."
    )
    email_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]
        constraints = [
            # A provider that delivers the same email twice makes one message.
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~Q(email_message_id=""),
                name="support_message_email_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} on ticket {self.ticket_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is ours; the customer's file name is kept in `filename`.
    return f"tickets/{instance.message.ticket_id}/{instance.message_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, storage=attachment_storage, max_length=300)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class CannedReply(models.Model):
    """A prepared answer staff start a reply from."""

    title = models.CharField(max_length=100, unique=True)
    body = models.TextField()
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text="Empty: offered in every department.",
    )

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class InboundEmail(models.Model):
    """Every email that reached support, and what became of it (staff read, never edit)."""

    class Outcome(models.TextChoices):
        NEW_TICKET = "new_ticket", "Opened a ticket"
        REPLY = "reply", "Added to a ticket"
        AUTOMATED = "automated", "Ignored: auto-reply or bounce"
        UNKNOWN_SENDER = "unknown_sender", "Unknown sender answered"
        THROTTLED = "throttled", "Ignored: too many from this address"
        DUPLICATE = "duplicate", "Ignored: already received"

    received_at = models.DateTimeField(default=timezone.now, editable=False)
    from_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=255, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.CharField(max_length=255, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["from_address", "outcome", "received_at"])]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.get_outcome_display()}"


class AutoAnswer(models.Model):
    """The last automatic answer sent to an address (RFC 3834): one per address per period."""

    address = models.CharField(max_length=254, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.address} at {self.sent_at:%Y-%m-%d %H:%M}"


class RestrictionRecord(models.Model):
    """Who set or lifted a customer's restriction of processing, when, and on which ticket."""

    class Action(models.TextChoices):
        SET = "set", "Restriction set"
        LIFTED = "lifted", "Restriction lifted"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="restriction_records"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    ticket = models.ForeignKey(Ticket, on_delete=models.SET_NULL, null=True, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} for {self.user_id}"
