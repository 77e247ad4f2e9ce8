from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class Category(models.TextChoices):
    TRANSACTIONAL = "transactional", "Transactional"
    MARKETING = "marketing", "Marketing"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Campaign(models.Model):
    """A marketing message staff write once; queuing it writes one row per consenting customer."""

    name = models.CharField(max_length=150, help_text="For staff only.")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField(
        help_text="Plain text; blank lines separate paragraphs. The layout adds the sender "
        "and the unsubscribe link."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    queued_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.channel == Channel.EMAIL and not self.subject.strip():
            raise ValidationError({"subject": "An email campaign needs a subject."})


class OutboxMessage(models.Model):
    """One message to one customer, rendered when it was queued.

    The row is written in the transaction of the event that caused it, so a
    rolled-back event sends nothing and a committed one is never forgotten: a
    worker claims the row (queued -> sending) before it talks to the provider,
    which makes a second run of the same task a no-op.
    """

    # Empty only for allauth's "unknown account" email: an address with no customer.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    category = models.CharField(
        max_length=20, choices=Category.choices, default=Category.TRANSACTIONAL
    )
    kind = models.CharField(max_length=100, help_text="Template name, e.g. welcome.")
    recipient = models.CharField(max_length=254, help_text="Email address or phone number.")
    subject = models.CharField(max_length=255, blank=True)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body_secret = models.BooleanField(
        default=False,
        help_text="The body carries a secret link or code (password reset, email "
        "confirmation): it is blanked once the message is sent.",
    )
    # Secrets the body names by placeholder (notifications/secrets.py), encrypted; merged
    # in only as the message is sent, and wiped once it is sent or has failed for good.
    secrets_encrypted = models.TextField(blank=True, editable=False)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_id = models.CharField(
        max_length=255, blank=True, help_text="SMTP Message-ID or Twilio message SID."
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="A worker may not claim the row before this time."
    )
    dispatched_at = models.DateTimeField(
        default=timezone.now, help_text="When the row was last handed to the broker."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outbox message"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The re-queue beat job and the worker's claim.
            models.Index(fields=["status", "dispatched_at"], name="notif_outbox_status_disp"),
            models.Index(fields=["user", "-created_at"], name="notif_outbox_user_created"),
            models.Index(fields=["channel", "kind"], name="notif_outbox_channel_kind"),
            models.Index(fields=["provider_id"], name="notif_outbox_provider_id"),
            # The admin's outbox list, newest first.
            models.Index(fields=["-created_at"], name="notif_outbox_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="notif_outbox_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values),
                name="notif_outbox_category_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="notif_outbox_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.kind} to {self.recipient} ({self.status})"


class Purpose(models.TextChoices):
    """What a customer may say yes or no to."""

    MARKETING_EMAIL = "marketing_email", "News and offers by email"
    MARKETING_SMS = "marketing_sms", "News and offers by text message"
    SMS_ALERTS = "sms_alerts", "Account alerts by text message"


class ConsentChannel(models.TextChoices):
    """Through which channel a consent change reached us."""

    PREFERENCES_PAGE = "preferences_page", "Preferences page"
    UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link in an email"
    ONE_CLICK = "one_click", "One-click unsubscribe from the mail client"
    SMS_REPLY = "sms_reply", "Text message reply (STOP/START)"


class Preferences(models.Model):
    """The current answer per purpose; ConsentRecord keeps how each answer was given.

    No row means no consent to anything optional: marketing and SMS are opt-in.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preferences",
    )
    marketing_email = models.BooleanField(default=False)
    marketing_sms = models.BooleanField(default=False)
    sms_alerts = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "notification preferences"
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user_id}"


class ConsentRecord(models.Model):
    """Proof of consent: every change, when, from which address, through which channel."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consent_records"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    granted = models.BooleanField()
    channel = models.CharField(max_length=20, choices=ConsentChannel.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["user", "-recorded_at"], name="notif_consent_user_time")]

    def __str__(self) -> str:
        answer = "granted" if self.granted else "withdrawn"
        return f"{self.get_purpose_display()} {answer} via {self.get_channel_display()}"


class TwilioCallback(models.Model):
    """A signed Twilio callback that was acted on, kept so a replay of it is ignored.

    Twilio's signature covers the URL and the parameters but no timestamp, so a captured
    request stays valid for ever: a delivery report is applied once per (MessageSid,
    status), an incoming message once per MessageSid.
    """

    message_sid = models.CharField(max_length=64)
    event = models.CharField(max_length=32, help_text="The delivery status, or 'inbound'.")
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message_sid", "event"], name="notif_twilio_callback_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_sid} {self.event}"
