"""Verification's reads, shared by its views, the admin and billing."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from accounts.models import User

from .models import Case, CaseStatus, ReviewCase, RiskAssessment, RiskSubject


def customer_cases(*, user: User) -> QuerySet[Case]:
    return Case.objects.filter(user=user).order_by("-created_at")


def review_queue() -> QuerySet[ReviewCase]:
    """Cases with both pictures, waiting for staff: oldest first."""
    return (
        ReviewCase.objects.filter(status=CaseStatus.UNDER_REVIEW)
        .select_related("user")
        .order_by("submitted_at", "pk")
    )


def case_states(*, case_ids: Iterable[int]) -> dict[int, str]:
    """{case id: status} for billing, which reacts to approved cases."""
    return dict(Case.objects.filter(pk__in=list(case_ids)).values_list("pk", "status"))


def risk_of(*, subject: RiskSubject, subject_ids: Iterable[int]) -> dict[int, RiskAssessment]:
    """The fraud scores of billing's orders or payments, by their id."""
    rows = RiskAssessment.objects.filter(subject=subject, subject_id__in=list(subject_ids))
    return {row.subject_id: row for row in rows}
