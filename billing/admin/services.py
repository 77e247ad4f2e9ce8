"""Staff pages for services: status history, cancellations, the panel sync."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.http import signed_in_user

from ..models import Service, ServiceStatus, ServiceTransition
from ..services import cancellations, lifecycle
from .columns import SERVICE_PRICE


class ServiceTransitionInline(admin.TabularInline[ServiceTransition, Service]):
    model = ServiceTransition
    extra = 0
    fields = ("created_at", "from_status", "to_status", "actor", "job", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceTransition]:
        return super().get_queryset(request).select_related("actor")


class CancellationWaitingFilter(admin.SimpleListFilter):
    title = "cancellation"
    parameter_name = "cancellation"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("waiting", "Requested, not run yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Service]) -> QuerySet[Service]:
        if self.value() == "waiting":
            return queryset.filter(cancel_at__isnull=False, status__in=cancellations.CANCELLABLE)
        return queryset


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = (
        "pk",
        "product",
        "user",
        "status",
        "cycle",
        SERVICE_PRICE,
        "next_due_date",
        "cancel_at",
    )
    list_filter = (
        "status",
        CancellationWaitingFilter,
        ("panel_error", admin.EmptyFieldListFilter),
        "cycle",
        "product",
    )
    search_fields = ("user__email", "product__name", "domain")
    raw_id_fields = ("user", "order", "account")
    list_select_related = ("product", "user")
    date_hierarchy = "next_due_date"
    # The status moves only through the lifecycle (the actions below), each change recorded.
    readonly_fields = (
        "status",
        "activated_at",
        "suspended_at",
        "terminated_at",
        "account",
        "cancel_at",
        "cancel_when",
        "cancel_reason",
        "cancel_requested_at",
        "panel_error",
        "panel_error_at",
    )
    inlines = [ServiceTransitionInline]
    actions = ["retry_provisioning", "retry_panel_sync", "undo_cancellation"]

    @admin.action(description="Retry setting up (failed services)")
    def retry_provisioning(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        retried, staff = 0, signed_in_user(request)
        for service in queryset.filter(status=ServiceStatus.FAILED):
            retried += lifecycle.service_provision_retry(service=service, actor=staff)
        self.message_user(request, f"{retried} service(s) queued to be set up again.")

    @admin.action(description="Sync with the panel again (services whose panel call failed)")
    def retry_panel_sync(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        retried = sum(
            lifecycle.service_sync_retry(service=service, actor=signed_in_user(request))
            for service in queryset.exclude(panel_error="")
        )
        self.message_user(request, f"{retried} service(s) queued to sync with the panel again.")

    @admin.action(description="Undo the cancellation request")
    def undo_cancellation(self, request: HttpRequest, queryset: QuerySet[Service]) -> None:
        staff = signed_in_user(request)
        undone = sum(
            cancellations.service_cancel_undo(service=service, actor=staff) for service in queryset
        )
        self.message_user(request, f"{undone} cancellation(s) withdrawn.")
