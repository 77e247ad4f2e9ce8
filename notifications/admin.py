from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.http import signed_in_user
from core.exceptions import ApplicationError

from .campaigns import campaign_queue, marketing_audience
from .models import Campaign, ConsentRecord, OutboxMessage, Preferences
from .services import message_resend


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    """The outbox as staff see it: read-only, with resend for failed rows."""

    list_display = (
        "created_at",
        "recipient",
        "channel",
        "category",
        "kind",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "channel", "kind", "category")
    search_fields = ("recipient", "user__email", "provider_id", "subject")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    actions = ("resend_failed",)
    readonly_fields = (
        "user",
        "channel",
        "category",
        "kind",
        "campaign",
        "recipient",
        "subject",
        "status",
        "attempts",
        "last_error",
        "provider_id",
        "headers",
        "created_at",
        "next_attempt_at",
        "dispatched_at",
        "claimed_at",
        "sent_at",
        "delivered_at",
        "failed_at",
        "rendered_text",
        "rendered_html",
    )
    fieldsets = (
        (None, {"fields": ("user", "recipient", "channel", "category", "kind", "campaign")}),
        ("Message", {"fields": ("subject", "headers", "rendered_text", "rendered_html")}),
        (
            "Delivery",
            {
                "fields": (
                    "status",
                    "attempts",
                    "last_error",
                    "provider_id",
                    "created_at",
                    "next_attempt_at",
                    "dispatched_at",
                    "claimed_at",
                    "sent_at",
                    "delivered_at",
                    "failed_at",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Rows are evidence of what was sent: viewable, never edited by hand.
        return False

    @admin.display(description="Text")
    def rendered_text(self, obj: OutboxMessage) -> str:
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.body_text)

    @admin.display(description="HTML")
    def rendered_html(self, obj: OutboxMessage) -> str:
        if not obj.body_html:
            return "—"
        # A sandboxed frame: the email's markup cannot run script or reach the admin.
        return format_html(
            '<iframe sandbox="" srcdoc="{}" title="Rendered email" '
            'style="width: 100%; min-height: 480px; border: 1px solid #ccc"></iframe>',
            obj.body_html,
        )

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_outboxmessage")

    @admin.action(description="Resend selected failed messages", permissions=["resend"])
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        resent = sum(message_resend(message=message) for message in queryset)
        skipped = queryset.count() - resent
        if resent:
            self.message_user(request, f"{resent} message(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} message(s) were not failed and were left alone.",
                messages.WARNING,
            )


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = ("name", "channel", "created_at", "queued_at", "queued_count")
    list_filter = ("channel",)
    search_fields = ("name", "subject")
    readonly_fields = ("created_by", "created_at", "queued_at", "queued_count", "audience_now")
    fields = ("name", "channel", "subject", "body", *readonly_fields)
    actions = ("queue_campaign",)

    def save_model(self, request: HttpRequest, obj: Campaign, form: object, change: bool) -> None:
        if not change:
            obj.created_by = signed_in_user(request)
        super().save_model(request, obj, form, change)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Campaign | None = None
    ) -> list[str] | tuple[str, ...]:
        if obj is not None and obj.queued_at:
            # What was sent stays as it was sent.
            return ("name", "channel", "subject", "body", *self.readonly_fields)
        return self.readonly_fields

    @admin.display(description="Consenting customers now")
    def audience_now(self, obj: Campaign) -> int:
        return marketing_audience(channel=obj.channel).count()

    @admin.action(description="Queue for every consenting customer", permissions=["change"])
    def queue_campaign(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset:
            try:
                count = campaign_queue(campaign=campaign)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request, f"“{campaign.name}” queued for {count} customer(s).", messages.SUCCESS
                )


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin[Preferences]):
    list_display = ("user", "marketing_email", "marketing_sms", "sms_alerts", "updated_at")
    list_filter = ("marketing_email", "marketing_sms", "sms_alerts")
    search_fields = ("user__email",)
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Only the customer changes consent, so that every change has its record.
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin[ConsentRecord]):
    list_display = ("recorded_at", "user", "purpose", "granted", "channel", "ip_address")
    list_filter = ("purpose", "granted", "channel")
    search_fields = ("user__email", "ip_address")
    list_select_related = ("user",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Proof of consent is never edited; it goes only with the customer's erasure.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
