"""Identity checks for cards without 3-D Secure, and the fraud signals behind them.

Verification sits below billing: it knows customers and card facts as plain data
(fingerprint, brand, last 4, country, 3-D Secure support) and billing's rows only as
plain ids (`subject_id`), never as foreign keys. See docs/verification.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class CaseStatus(models.TextChoices):
    AWAITING_DOCUMENTS = "awaiting_documents", "Waiting for your pictures"
    UNDER_REVIEW = "under_review", "Under review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


OPEN_STATUSES = (CaseStatus.AWAITING_DOCUMENTS, CaseStatus.UNDER_REVIEW, CaseStatus.REJECTED)


class CaseReason(models.TextChoices):
    NO_THREE_D_SECURE = "no_3ds", "The card does not support 3-D Secure"
    RISK = "risk", "The fraud score is above the threshold"


class RejectionReason(models.TextChoices):
    UNREADABLE = "unreadable", "A picture is unreadable or blurred"
    NAME_MISMATCH = "name_mismatch", "The name on the card and on the ID differ"
    CARD_MISMATCH = "card_mismatch", "The card in the picture is not the card used"
    ID_INVALID = "id_invalid", "The ID is expired or not a government ID"
    TAMPERED = "tampered", "A picture looks altered"
    OTHER = "other", "Another reason (see the note)"


class Case(models.Model):
    """One card of one customer that must be verified before it is charged."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verification_cases"
    )
    card_fingerprint = models.CharField(max_length=64)
    card_brand = models.CharField(max_length=20)
    card_last4 = models.CharField(max_length=4)
    card_country = models.CharField(max_length=2, blank=True)
    card_three_d_secure = models.BooleanField()
    reason = models.CharField(max_length=10, choices=CaseReason.choices)
    status = models.CharField(
        max_length=20, choices=CaseStatus.choices, default=CaseStatus.AWAITING_DOCUMENTS
    )
    risk_score = models.PositiveSmallIntegerField(default=0)
    risk_reasons = models.JSONField(default=list, blank=True)
    billing_country = models.CharField(max_length=2, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verification_decisions",
    )
    rejection_reason = models.CharField(max_length=20, choices=RejectionReason.choices, blank=True)
    rejection_note = models.TextField(blank=True)
    documents_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["user", "card_fingerprint"]),
            models.Index(fields=["decided_at"]),
        ]
        constraints = [
            # One open case per card and customer: a second payment joins the first.
            models.UniqueConstraint(
                fields=["user", "card_fingerprint"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="verification_one_open_case_per_card",
            )
        ]

    def __str__(self) -> str:
        return f"Verification #{self.pk} ({self.card_brand} •••• {self.card_last4})"

    @property
    def card_label(self) -> str:
        return f"{self.card_brand.title()} •••• {self.card_last4}"

    @property
    def rejection_text(self) -> str:
        """The reason in words, with staff's note."""
        if not self.rejection_reason:
            return ""
        label = RejectionReason(self.rejection_reason).label
        return f"{label}: {self.rejection_note}" if self.rejection_note else f"{label}."

    @property
    def accepts_documents(self) -> bool:
        return self.status in (CaseStatus.AWAITING_DOCUMENTS, CaseStatus.REJECTED)


class ReviewCase(Case):
    """The review queue in the admin: cases whose pictures wait for staff."""

    class Meta:
        proxy = True
        verbose_name = "case to review"
        verbose_name_plural = "review queue"


class DocumentKind(models.TextChoices):
    CARD = "card", "Picture of the card"
    IDENTITY = "identity", "Government ID"


class Document(models.Model):
    """An uploaded picture, stored encrypted under a random name in the private storage."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    storage_name = models.CharField(max_length=255, unique=True)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField(help_text="Bytes before encryption.")
    key_id = models.CharField(max_length=16, help_text="Which encryption key sealed the file.")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="verification_one_document_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of case #{self.case_id}"


class DocumentAccess(models.Model):
    """Who looked at which document (staff, or the customer their own), when and from
    where. Kept after the purge."""

    document = models.ForeignKey(
        Document, null=True, on_delete=models.SET_NULL, related_name="accesses"
    )
    # Kept when an erased customer's case goes: the log is about what staff did.
    case = models.ForeignKey(
        Case, null=True, on_delete=models.SET_NULL, related_name="document_accesses"
    )
    document_kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    viewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    viewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "document accesses"
        indexes = [models.Index(fields=["-viewed_at"])]

    def __str__(self) -> str:
        return f"{self.get_document_kind_display()} of case #{self.case_id} seen {self.viewed_at}"


class RiskSubject(models.TextChoices):
    ORDER = "order", "Order"
    PAYMENT = "payment", "Payment"


class RiskAssessment(models.Model):
    """The fraud score of one of billing's orders or payments, by plain id."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="risk_assessments"
    )
    subject = models.CharField(max_length=10, choices=RiskSubject.choices)
    subject_id = models.PositiveBigIntegerField()
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    ip_country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "subject_id"], name="verification_one_risk")
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.subject_id}: {self.score}"


class CardAttempt(models.Model):
    """A card a customer tried to pay with: many different ones in a short time is a signal."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="card_attempts"
    )
    card_fingerprint = models.CharField(max_length=64)
    attempted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "attempted_at"])]

    def __str__(self) -> str:
        return f"{self.card_fingerprint} at {self.attempted_at}"
