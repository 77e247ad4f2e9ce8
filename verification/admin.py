"""Staff review: the queue (oldest first, with the waiting time), the review page with
both documents side by side, approve or reject, and the read-only access log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.csp import CSP
from django.utils.timesince import timesince
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from accounts.http import signed_in_user
from core.admin import RecordAdminMixin
from core.exceptions import ApplicationError

from . import selectors, services
from .forms import RejectForm
from .models import Case, CaseStatus, Document, DocumentAccess, ReviewCase
from .risk import visitor_from_request
from .views import document_response


@admin.register(ReviewCase)
class ReviewQueueAdmin(admin.ModelAdmin[ReviewCase]):
    """Cases whose pictures wait for staff, oldest first; a row opens the review page."""

    list_display = ("__str__", "customer", "card", "card_country", "waiting", "risk_score")
    list_display_links = ("__str__",)
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReviewCase]:
        return selectors.review_queue()

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        return ("submitted_at", "pk")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="customer")
    def customer(self, case: Case) -> str:
        return f"{case.user.full_name} <{case.user.email}>"

    @admin.display(description="card")
    def card(self, case: Case) -> str:
        return case.card_label

    @admin.display(description="waiting", ordering="submitted_at")
    def waiting(self, case: Case) -> str:
        return timesince(case.submitted_at, timezone.now()) if case.submitted_at else ""

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:case_pk>/document/<int:document_pk>/",
                view(self.document_view),
                name="verification_reviewcase_document",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse("Staff with access to verification only.", status=403)
        case = get_object_or_404(Case.objects.select_related("user"), pk=object_id)
        reject_form = RejectForm(request.POST if "reject" in request.POST else None)
        if request.method == "POST":
            if not self.has_change_permission(request):
                return HttpResponse("You may not decide verifications.", status=403)
            response = self._decide(request, case, reject_form)
            if response is not None:
                return response
        user = case.user
        address = [
            user.address_line1,
            user.address_line2,
            " ".join(p for p in (user.postcode, user.city) if p),
            user.region,
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review {case}",
            "case": case,
            "customer": user,
            "billing_address": [line for line in address if line],
            "documents": list(case.documents.order_by("kind")),
            "reject_form": reject_form,
            "can_decide": case.status == CaseStatus.UNDER_REVIEW,
        }
        return TemplateResponse(request, "admin/verification/review.html", context)

    def _decide(
        self, request: HttpRequest, case: Case, reject_form: RejectForm
    ) -> HttpResponse | None:
        try:
            if "approve" in request.POST:
                services.case_approve(case=case, staff=signed_in_user(request))
                messages.success(request, f"{case} is approved; the held invoice is charged next.")
            elif "reject" in request.POST and reject_form.is_valid():
                services.case_reject(
                    case=case,
                    staff=signed_in_user(request),
                    reason=reject_form.cleaned_data["reason"],
                    note=reject_form.cleaned_data["note"],
                )
                messages.success(
                    request, f"{case} is rejected; the customer may send new pictures."
                )
            else:
                return None
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return None
        return redirect(reverse("admin:verification_reviewcase_changelist"))

    @xframe_options_sameorigin
    @csp_override({**settings.SECURE_CSP, "frame-ancestors": [CSP.SELF]})
    def document_view(self, request: HttpRequest, case_pk: int, document_pk: int) -> HttpResponse:
        """A document decrypted for staff, inline and never cached; every view is logged."""
        if not self.has_view_permission(request):
            return HttpResponse("Staff with access to verification only.", status=403)
        document = get_object_or_404(Document, pk=document_pk, case_id=case_pk)
        services.document_access_log(
            document=document,
            viewer=signed_in_user(request),
            ip_address=visitor_from_request(request).ip_address,
        )
        return document_response(document=document)


@admin.register(Case)
class CaseAdmin(RecordAdminMixin[Case], admin.ModelAdmin[Case]):
    """Every case and its decision (kept after the pictures are purged)."""

    list_display = ("__str__", "user", "status", "reason", "risk_score", "created_at", "decided_at")
    list_filter = ("status", "reason")
    search_fields = ("user__email", "card_last4", "card_fingerprint")
    list_select_related = ("user",)
    ordering = ("-created_at",)


@admin.register(DocumentAccess)
class DocumentAccessAdmin(RecordAdminMixin[DocumentAccess], admin.ModelAdmin[DocumentAccess]):
    """Who opened which document, when and from which address: read-only."""

    list_display = ("viewed_at", "viewed_by", "case", "document_kind", "ip_address")
    list_filter = ("document_kind",)
    search_fields = ("viewed_by__email", "ip_address")
    list_select_related = ("viewed_by", "case")
    ordering = ("-viewed_at",)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
