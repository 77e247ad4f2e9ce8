from __future__ import annotations

import datetime

from cookie_consent.admin import CookieAdmin as PackageCookieAdmin
from cookie_consent.admin import CookieGroupAdmin as PackageCookieGroupAdmin
from cookie_consent.models import Cookie, CookieGroup
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Avg, Count, Model, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from core.exceptions import ApplicationError

from . import reports
from .models import (
    CookieConsentRecord,
    CookieFacts,
    DataRequest,
    DocumentAcceptance,
    LegalDocument,
    PageTiming,
    PageVisit,
    SessionRecord,
)
from .rendering import render_markdown
from .services import document_publish

CHART_DAYS = 30


class CookieFactsInline(admin.StackedInline[CookieFacts, Cookie]):
    model = CookieFacts
    can_delete = False
    min_num = 1


admin.site.unregister(Cookie)


@admin.register(Cookie)
class CookieAdmin(PackageCookieAdmin):
    """The package's cookie admin plus provider, lifetime and third-party facts."""

    inlines = [CookieFactsInline]
    # The package's admin infers a six-name tuple; ours shows five columns.
    list_display = ("name", "cookiegroup", "domain", "provider", "lifetime")  # type: ignore[assignment]
    list_select_related = ("cookiegroup", "facts")

    @admin.display(description="provider")
    def provider(self, obj: Cookie) -> str:
        return getattr(getattr(obj, "facts", None), "provider", "")

    @admin.display(description="lifetime")
    def lifetime(self, obj: Cookie) -> str:
        return getattr(getattr(obj, "facts", None), "lifetime", "")


admin.site.unregister(CookieGroup)


@admin.register(CookieGroup)
class CookieGroupAdmin(PackageCookieGroupAdmin):
    """The package's group admin without its query per row (its version column reads the
    newest cookie of each group)."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[CookieGroup]:
        groups: QuerySet[CookieGroup] = super().get_queryset(request)
        return groups.prefetch_related(
            Prefetch("cookie_set", queryset=Cookie.objects.order_by("-created"))
        )


@admin.register(LegalDocument)
class LegalDocumentAdmin(admin.ModelAdmin[LegalDocument]):
    list_display = ("kind", "version", "title", "effective_date", "published_at")
    list_filter = ("kind",)
    readonly_fields = ("published_at", "created_at", "preview")
    actions = ["publish"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        """A new version starts from the latest one of its kind (?kind=terms for terms)."""
        initial = super().get_changeform_initial_data(request)
        kind = request.GET.get("kind", LegalDocument.Kind.PRIVACY)
        latest = LegalDocument.objects.filter(kind=kind).order_by("-version").first()
        if latest is not None:
            initial.update(
                kind=kind, version=str(latest.version + 1), title=latest.title, body=latest.body
            )
        return initial

    def get_readonly_fields(
        self, request: HttpRequest, obj: LegalDocument | None = None
    ) -> list[str] | tuple[str, ...]:
        # A published version is part of the record customers accepted: never edited.
        if obj is not None and obj.is_published:
            return [f.name for f in LegalDocument._meta.fields] + ["preview"]
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: LegalDocument | None = None) -> bool:
        return obj is None or not obj.is_published

    @admin.display(description="preview (as customers will see it)")
    def preview(self, obj: LegalDocument) -> str:
        return render_markdown(obj.body) if obj.pk else ""

    @admin.action(description="Publish and email customers")
    def publish(self, request: HttpRequest, queryset: QuerySet[LegalDocument]) -> None:
        for document in queryset.order_by("kind", "version"):
            try:
                published = document_publish(document=document)
            except ApplicationError as error:
                self.message_user(request, f"{document}: {error}", messages.ERROR)
                continue
            if published:
                self.message_user(request, f"{document} is published; customers are being told.")
            else:
                self.message_user(request, f"{document} was already published.", messages.WARNING)


class ReadOnlyAdmin[M: Model](admin.ModelAdmin[M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


class ProofAdmin[M: Model](ReadOnlyAdmin[M]):
    """Consent and acceptance records are the proof GDPR art. 7(1) asks for: staff read
    them, nobody deletes them here (erasure goes through personal_data)."""

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(CookieConsentRecord)
class CookieConsentRecordAdmin(ProofAdmin[CookieConsentRecord]):
    list_display = (
        "created_at",
        "action",
        "user",
        "visitor_id",
        "functional",
        "performance",
        "advertising",
        "declaration_version",
        "policy",
        "ip",
    )
    list_filter = ("action", "functional", "performance", "advertising")
    search_fields = ("visitor_id", "user__email")
    list_select_related = ("user", "policy")
    date_hierarchy = "created_at"


@admin.register(DocumentAcceptance)
class DocumentAcceptanceAdmin(ProofAdmin[DocumentAcceptance]):
    list_display = ("accepted_at", "user", "document", "source", "ip")
    list_filter = ("source", "document")
    search_fields = ("user__email",)
    list_select_related = ("user", "document")


@admin.register(SessionRecord)
class SessionRecordAdmin(ReadOnlyAdmin[SessionRecord]):
    list_display = (
        "signed_in_at",
        "user",
        "browser",
        "operating_system",
        "device_type",
        "ip",
        "protocol",
        "network_host",
    )
    search_fields = ("user__email", "ip")
    list_select_related = ("user",)


@admin.register(PageTiming)
class PageTimingAdmin(ReadOnlyAdmin[PageTiming]):
    """Page speed from the performance beacon, charted per day for the last 30 days."""

    list_display = ("recorded_on", "path", "ttfb_ms", "dom_ready_ms", "load_ms")
    list_filter = ("recorded_on",)
    change_list_template = "admin/privacy/pagetiming/change_list.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        since = timezone.localdate() - datetime.timedelta(days=CHART_DAYS - 1)
        days = list(
            PageTiming.objects.filter(recorded_on__gte=since)
            .values("recorded_on")
            .annotate(loads=Count("id"), load=Avg("load_ms"), ttfb=Avg("ttfb_ms"))
            .order_by("recorded_on")
        )
        peak = max((day["load"] for day in days), default=0) or 1
        chart = [
            {
                "day": day["recorded_on"],
                "loads": day["loads"],
                "load": round(day["load"]),
                "ttfb": round(day["ttfb"]),
                "height": round(day["load"] / peak * 100),
                "y": 110 - round(day["load"] / peak * 100),
                "x": index * 22,
            }
            for index, day in enumerate(days)
        ]
        extra = {"chart": chart, "chart_width": max(len(chart) * 22, 22), "chart_days": CHART_DAYS}
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})


@admin.register(PageVisit)
class PageVisitAdmin(ReadOnlyAdmin[PageVisit]):
    list_display = ("recorded_on", "from_path", "path", "seconds_on_page")
    list_filter = ("recorded_on",)
    search_fields = ("path", "from_path")


@admin.register(DataRequest)
class DataRequestAdmin(ProofAdmin[DataRequest]):
    """Every GDPR request, its state and the law's deadline. Export and erasure run by
    themselves; staff watch here (a failed erasure shows its error and resumes by beat)."""

    list_display = ("kind", "user", "status", "created_at", "deadline", "completed_at")
    list_filter = ("kind", "status")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "user",
        "kind",
        "status",
        "created_at",
        "deadline",
        "completed_at",
        "erase_after",
        "expires_at",
        "file_size",
        "steps_done",
        "error",
    )
    exclude = ("file_name",)

    def get_urls(self) -> list[URLPattern]:
        report = self.admin_site.admin_view(self.demographics_view)
        return [
            path("demographics/", report, name="privacy_demographics"),
            *super().get_urls(),
        ]

    def demographics_view(self, request: HttpRequest) -> HttpResponse:
        """Customers by month, country and plan for partners, small groups suppressed;
        ?format=csv downloads the same figures."""
        rows = reports.demographics()
        if request.GET.get("format") == "csv":
            response = HttpResponse(reports.demographics_csv(rows), content_type="text/csv")
            response["Content-Disposition"] = 'attachment; filename="demographics.csv"'
            return response
        months = [row for row in rows if row.country == reports.ALL]
        peak = max((row.customers or 0 for row in months), default=0) or 1
        chart = [
            {
                "month": row.month,
                "customers": row.customers,
                "height": round((row.customers or 0) / peak * 100),
                "y": 110 - round((row.customers or 0) / peak * 100),
                "x": index * 40,
            }
            for index, row in enumerate(months)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Customer demographics",
            "rows": rows,
            "chart": chart,
            "chart_width": max(len(chart) * 40, 40),
            "k": settings.PRIVACY_REPORT_MIN_GROUP,
            "all": reports.ALL,
        }
        return TemplateResponse(request, "admin/privacy/demographics.html", context)
