"""Privacy records: the cookie declaration's extra facts, the consent ledger, policy and
terms versions with their acceptances, anonymous measurements, and per-session
technical data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CookieFacts(models.Model):
    """What django-cookie-consent's Cookie lacks: who sets it and for how long.

    The package's Cookie keeps name, purpose (description), domain and path.
    """

    cookie = models.OneToOneField(
        "cookie_consent.Cookie", on_delete=models.CASCADE, related_name="facts"
    )
    provider = models.CharField(max_length=100, help_text="Who sets the cookie, e.g. Stripe.")
    lifetime = models.CharField(max_length=100, help_text="How long it lasts, e.g. 1 year.")
    third_party = models.BooleanField(default=False)

    class Meta:
        verbose_name = "cookie facts"
        verbose_name_plural = "cookie facts"

    def __str__(self) -> str:
        return f"{self.provider}, {self.lifetime}"


class LegalDocument(models.Model):
    """One version of the privacy policy or the terms of service, written in Markdown."""

    class Kind(models.TextChoices):
        PRIVACY = "privacy", "Privacy policy"
        TERMS = "terms", "Terms of service"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown. HTML is sanitised when shown.")
    change_summary = models.TextField(
        help_text="What changed since the previous version, in a sentence or two."
    )
    effective_date = models.DateField()
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Claimed by the announcement (once); a beat sweep announces what the broker dropped.
    announced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="privacy_document_version"),
        ]
        indexes = [models.Index(fields=["kind", "published_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class DocumentAcceptance(models.Model):
    """A customer accepted one version (at sign-up or when acknowledging a new version)."""

    class Source(models.TextChoices):
        SIGNUP = "signup", "Sign-up"
        NOTICE = "notice", "Notice of a new version"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="document_acceptances"
    )
    document = models.ForeignKey(LegalDocument, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    ip = models.GenericIPAddressField(null=True, blank=True)
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="privacy_accept_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.document}"


class CookieConsentRecord(models.Model):
    """The consent ledger: one row per choice a browser made, never updated.

    The package's LogItem knows neither who chose nor from where; this does.
    """

    class Action(models.TextChoices):
        ACCEPT_ALL = "accept_all", "Accepted all"
        REJECT_ALL = "reject_all", "Rejected all"
        CUSTOM = "custom", "Chose per group"
        WITHDRAW = "withdraw", "Withdrew consent"

    visitor_id = models.CharField(max_length=32, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cookie_consent_records",
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    functional = models.BooleanField()
    performance = models.BooleanField()
    advertising = models.BooleanField()
    declaration_version = models.CharField(max_length=16)
    # On a withdrawal, the groups it withdrew (comma-separated): other browsers of the
    # customer drop them; the shared cache only speeds this up.
    withdrawn = models.CharField(max_length=50, blank=True, default="")
    policy = models.ForeignKey(
        LegalDocument, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.visitor_id})"

    @property
    def withdrawn_groups(self) -> list[str]:
        return self.withdrawn.split(",") if self.withdrawn else []

    @property
    def answers(self) -> dict[str, bool]:
        return {
            "functional": self.functional,
            "performance": self.performance,
            "advertising": self.advertising,
        }


class PageTiming(models.Model):
    """One page load's timings from the performance beacon: no user, no IP, no identifier."""

    path = models.CharField(max_length=200)
    ttfb_ms = models.PositiveIntegerField()
    dom_ready_ms = models.PositiveIntegerField()
    load_ms = models.PositiveIntegerField()
    recorded_on = models.DateField(db_index=True)

    class Meta:
        ordering = ["-recorded_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ttfb_ms__lte=600_000)
                & Q(dom_ready_ms__lte=600_000)
                & Q(load_ms__lte=600_000),
                name="privacy_timing_plausible",
            )
        ]

    def __str__(self) -> str:
        return f"{self.path} {self.load_ms} ms"


class PageVisit(models.Model):
    """An anonymous page-path record (advertising group): where from, where to, how long."""

    path = models.CharField(max_length=200)
    from_path = models.CharField(max_length=200, blank=True)
    seconds_on_page = models.PositiveIntegerField(null=True, blank=True)
    recorded_on = models.DateField(db_index=True)

    class Meta:
        ordering = ["-recorded_on", "-id"]

    def __str__(self) -> str:
        return f"{self.from_path or '(entry)'} → {self.path}"


class SessionRecord(models.Model):
    """Technical data of one signed-in session, kept for PRIVACY_TECHNICAL_DATA_DAYS."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_records"
    )
    # SHA-256 of the session key: matches the live session without storing a credential.
    session_key_hash = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    browser = models.CharField(max_length=100)
    operating_system = models.CharField(max_length=100)
    device_type = models.CharField(max_length=20)
    protocol = models.CharField(max_length=20, help_text="HTTPS or HTTP, and the HTTP version.")
    network_host = models.CharField(
        max_length=255, blank=True, help_text="Reverse DNS name of the IP: the network provider."
    )
    signed_in_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Set once the reverse lookup ran (named or not); a beat sweep redoes the rest.
    network_host_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-signed_in_at", "-id"]
        indexes = [models.Index(fields=["user", "-signed_in_at"])]

    def __str__(self) -> str:
        return f"{self.browser} on {self.operating_system} ({self.ip})"


class DataRequest(models.Model):
    """A customer's GDPR request: an export, an erasure, or a ticket asking for a
    restriction, correction or objection. Staff see every one in admin with its deadline
    (one month, GDPR Art. 12(3)); export and erasure need no staff action."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        ERASURE = "erasure", "Erasure"
        RESTRICTION = "restriction", "Restriction of processing"
        CORRECTION = "correction", "Correction"
        OBJECTION = "objection", "Objection"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        BUILDING = "building", "Being prepared"
        READY = "ready", "Ready to download"
        EXPIRED = "expired", "Expired (file deleted)"
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        RUNNING = "running", "In progress"
        DONE = "done", "Done"
        FAILED = "failed", "Failed, will be retried"
        OPENED = "opened", "Ticket opened"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_requests"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    created_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(help_text="When the law's one month is up.")
    completed_at = models.DateTimeField(null=True, blank=True)
    # Export: the zip in storages["privacy"], reachable only through the download view.
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Erasure: when it runs (end of the grace period) and the apps already erased, so a
    # failure resumes where it stopped.
    erase_after = models.DateTimeField(null=True, blank=True)
    steps_done = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["status", "erase_after"]),
        ]
        constraints = [
            # One live erasure per customer.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(kind="erasure", status__in=["scheduled", "running", "failed"]),
                name="privacy_one_live_erasure",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"
