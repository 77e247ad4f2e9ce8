"""The staff desk in the admin: the queue by waiting time, replies, internal notes, canned
replies, assignment, merging, privacy requests with their deadline, and staff downloads."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Model, QuerySet
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from accounts.http import signed_in_user
from core.exceptions import ApplicationError

from . import services
from .forms import MultipleFileField
from .models import (
    WAITING_FOR_STAFF,
    Attachment,
    CannedReply,
    Department,
    InboundEmail,
    Message,
    PrivacyDecision,
    RestrictionRecord,
    Ticket,
)
from .views import attachment_response


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ("name", "slug", "handles_privacy_requests", "is_active", "position")
    list_editable = ("is_active", "position")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin[CannedReply]):
    list_display = ("title", "department")
    list_filter = ("department",)
    search_fields = ("title", "body")


class MessageInline(admin.StackedInline[Message, Ticket]):
    """The thread as staff see it: internal notes marked, the full original email, files."""

    model = Message
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "from_address", "body", "files", "original")
    readonly_fields = fields
    ordering = ("created_at", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return (
            super().get_queryset(request).select_related("author").prefetch_related("attachments")
        )

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="From")
    def kind(self, message: Message) -> str:
        if message.is_internal:
            return f"Internal note by {message.author or 'the system'} (customers never see it)"
        if message.from_staff:
            return f"Staff reply by {message.author}"
        return f"Customer ({message.get_source_display()})"

    @admin.display(description="Attachments")
    def files(self, message: Message) -> str:
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a> ({} bytes)',
                (
                    (reverse("admin:support_attachment_download", args=[a.pk]), a.filename, a.size)
                    for a in message.attachments.all()
                ),
            )
            or "-"
        )


class TicketAdminForm(forms.ModelForm[Ticket]):
    """The ticket's own fields, plus the reply, the note and the canned reply staff write."""

    reply = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Sent to the customer by email, with a Reply-To that threads their answer.",
    )
    canned_reply = forms.ModelChoiceField(
        queryset=CannedReply.objects.all(),
        required=False,
        help_text="Sent as the reply when the reply box is empty; added after it otherwise.",
    )
    reply_files = MultipleFileField(label="Reply attachments", required=False)
    internal_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For staff only: the customer never sees it.",
    )

    class Meta:
        model = Ticket
        fields = ("department", "subject", "priority", "status", "assigned_to")

    def reply_text(self) -> str:
        parts = [self.cleaned_data.get("reply", "").strip()]
        canned = self.cleaned_data.get("canned_reply")
        if canned is not None:
            parts.append(canned.body.strip())
        return "\n\n".join(part for part in parts if part)


class WaitingFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("waiting", "Waiting for us, longest first"),
            ("mine", "Assigned to me"),
            ("overdue", "Privacy requests past their deadline"),
            ("privacy", "Undecided privacy requests"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        match self.value():
            case "waiting":
                return queryset.filter(status__in=WAITING_FOR_STAFF).order_by("waiting_since")
            case "mine":
                return queryset.filter(assigned_to=signed_in_user(request))
            case "overdue":
                return queryset.filter(
                    request_decision="", request_due_at__lt=timezone.now()
                ).exclude(request_type="")
            case "privacy":
                return queryset.filter(request_decision="").exclude(request_type="")
        return queryset


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    form = TicketAdminForm
    inlines = [MessageInline]
    list_display = (
        "reference_subject",
        "customer",
        "department",
        "status",
        "priority",
        "assigned_to",
        "waiting",
        "privacy_deadline",
    )
    list_filter = (WaitingFilter, "status", "department", "priority", "request_type")
    list_select_related = ("user", "department", "assigned_to")
    search_fields = ("=id", "subject", "user__email", "user__full_name", "guest_email")
    # Open tickets by waiting time: the longest-waiting first, answered ones after.
    ordering = (F("waiting_since").asc(nulls_last=True), "-updated_at")
    readonly_fields = (
        "customer",
        "linked",
        "created_at",
        "waiting",
        "privacy_request",
        "merged_into",
    )
    fieldsets = (
        (None, {"fields": ("subject", "customer", "department", "priority", "status")}),
        ("Handling", {"fields": ("assigned_to", "waiting", "linked", "created_at", "merged_into")}),
        ("Privacy request", {"fields": ("privacy_request",)}),
        ("Answer", {"fields": ("reply", "canned_reply", "reply_files", "internal_note")}),
    )
    actions = [
        "assign_to_me",
        "close_tickets",
        "merge_tickets",
        "accept_privacy_request",
        "decline_privacy_request",
        "lift_restriction",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets come from customers; staff answer them

    def get_fieldsets(self, request: HttpRequest, obj: Ticket | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not obj.request_type:
            fieldsets = [fs for fs in fieldsets if fs[0] != "Privacy request"]
        return fieldsets

    @admin.display(description="Ticket", ordering="pk")
    def reference_subject(self, ticket: Ticket) -> str:
        return f"{ticket.reference} {ticket.subject}"

    @admin.display(description="Customer")
    def customer(self, ticket: Ticket) -> str:
        if ticket.user_id:
            url = reverse("admin:accounts_user_change", args=[ticket.user_id])
            return format_html('<a href="{}">{}</a>', url, ticket.user)
        return f"Guest: {ticket.guest_name} <{ticket.guest_email}>"

    @admin.display(description="Waiting", ordering="waiting_since")
    def waiting(self, ticket: Ticket) -> str:
        if ticket.waiting_since is None or ticket.status not in WAITING_FOR_STAFF:
            return "-"
        return timesince(ticket.waiting_since)

    @admin.display(description="Privacy deadline", ordering="request_due_at")
    def privacy_deadline(self, ticket: Ticket) -> str:
        if not ticket.request_type:
            return "-"
        if ticket.request_decision:
            return ticket.get_request_decision_display()
        due = ticket.request_due_at.strftime("%d %b %Y") if ticket.request_due_at else "?"
        if ticket.request_overdue:
            return format_html('<strong style="color:#b00020">OVERDUE since {}</strong>', due)
        return f"due {due}"

    @admin.display(description="Request")
    def privacy_request(self, ticket: Ticket) -> str:
        decided = (
            f"{ticket.get_request_decision_display()} on "
            f"{ticket.request_decided_at:%d %b %Y} by {ticket.request_decided_by}"
            if ticket.request_decision
            else "Not decided: use the Accept or Decline action in the list."
        )
        return format_html(
            "{}<br>{}<br>{}", ticket.get_request_type_display(), self.privacy_deadline(ticket),
            decided,
        )  # fmt: skip

    @admin.display(description="About")
    def linked(self, ticket: Ticket) -> str:
        parts = []
        if ticket.service_id:
            url = reverse("admin:billing_service_change", args=[ticket.service_id])
            parts.append(format_html('<a href="{}">Service {}</a>', url, ticket.service))
        if ticket.invoice_id:
            url = reverse("admin:billing_invoice_change", args=[ticket.invoice_id])
            parts.append(format_html('<a href="{}">Invoice {}</a>', url, ticket.invoice))
        return format_html_join(" · ", "{}", ((p,) for p in parts)) or "-"

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        ticket, staff = form.instance, signed_in_user(request)
        try:
            if note := form.cleaned_data.get("internal_note", "").strip():
                services.ticket_add_note(ticket=ticket, staff=staff, body=note)
            if reply := form.reply_text():
                services.ticket_staff_reply(
                    ticket=ticket,
                    staff=staff,
                    body=reply,
                    files=form.cleaned_data.get("reply_files") or [],
                )
                self.message_user(request, "The reply is on its way to the customer.")
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "attachment/<int:pk>/",
                self.admin_site.admin_view(self.attachment_download),
                name="support_attachment_download",
            ),
            *super().get_urls(),
        ]

    def attachment_download(self, request: HttpRequest, pk: int) -> FileResponse:
        attachment = get_object_or_404(Attachment.objects.select_related("message__ticket"), pk=pk)
        if not self.has_view_permission(request, attachment.message.ticket):
            raise PermissionDenied
        return attachment_response(attachment)

    @admin.action(description="Assign to me")
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        for ticket in queryset:
            services.ticket_assign(ticket=ticket, staff=signed_in_user(request))
        self.message_user(request, f"{queryset.count()} ticket(s) assigned to you.")

    @admin.action(description="Close")
    def close_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        for ticket in queryset:
            services.ticket_close(ticket=ticket)
        self.message_user(request, f"{queryset.count()} ticket(s) closed.")

    @admin.action(description="Merge two tickets (the newer into the older)")
    def merge_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        tickets = list(queryset.order_by("created_at", "pk"))
        if len(tickets) != 2:
            self.message_user(request, "Select exactly two tickets to merge.", messages.ERROR)
            return
        older, newer = tickets
        try:
            services.ticket_merge(source=newer, target=older, staff=signed_in_user(request))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, f"Ticket #{newer.pk} was merged into #{older.pk}.")

    def _decide(self, request: HttpRequest, queryset: QuerySet[Ticket], decision: str) -> None:
        done = 0
        for ticket in queryset:
            try:
                services.privacy_request_decide(
                    ticket=ticket, staff=signed_in_user(request), decision=decision
                )
            except ApplicationError as error:
                self.message_user(request, f"{ticket.reference}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} privacy request(s) {decision}.")

    @admin.action(description="Accept the privacy request (a restriction takes effect)")
    def accept_privacy_request(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._decide(request, queryset, PrivacyDecision.ACCEPTED)

    @admin.action(description="Decline the privacy request")
    def decline_privacy_request(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._decide(request, queryset, PrivacyDecision.DECLINED)

    @admin.action(description="Lift the customer's restriction of processing")
    def lift_restriction(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        lifted, staff = 0, signed_in_user(request)
        for ticket in queryset.filter(user__isnull=False).select_related("user"):
            if ticket.user is None:
                continue
            if services.processing_restriction_lift(user=ticket.user, staff=staff, ticket=ticket):
                services.ticket_add_note(
                    ticket=ticket, staff=staff, body="Restriction of processing lifted."
                )
                lifted += 1
        self.message_user(request, f"Restriction lifted for {lifted} customer(s).")


class ReadOnlyAdmin[M: Model](admin.ModelAdmin[M]):
    """A record staff read but never add, edit or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdmin[InboundEmail]):
    list_display = ("received_at", "from_address", "subject", "outcome", "reason", "ticket")
    list_filter = ("outcome",)
    search_fields = ("from_address", "subject", "message_id")


@admin.register(RestrictionRecord)
class RestrictionRecordAdmin(ReadOnlyAdmin[RestrictionRecord]):
    list_display = ("recorded_at", "user", "action", "ticket", "staff")
    list_filter = ("action",)
    search_fields = ("user__email",)
