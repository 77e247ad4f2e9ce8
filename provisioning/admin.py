from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from core.admin import RecordAdminMixin

from . import services
from .models import Account, AccountStatus, ModuleLog, Server, ServerGroup
from .modules.base import ModuleError


class ServerForm(forms.ModelForm[Server]):
    secret = forms.CharField(
        label="API token or secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current one.",
    )

    class Meta:
        model = Server
        fields = [
            "group",
            "name",
            "hostname",
            "port",
            "use_tls",
            "verify_tls",
            "username",
            "secret",
            "options",
            "max_accounts",
            "is_active",
        ]


class ServerInline(admin.TabularInline[Server, ServerGroup]):
    model = Server
    extra = 0
    fields = ("name", "hostname", "max_accounts", "is_active")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServerGroup)
class ServerGroupAdmin(admin.ModelAdmin[ServerGroup]):
    list_display = ("name", "module")
    list_filter = ("module",)
    inlines = [ServerInline]


@admin.register(Server)
class ServerAdmin(admin.ModelAdmin[Server]):
    form = ServerForm
    list_display = ("name", "group", "hostname", "accounts_used", "max_accounts", "is_active")
    list_filter = ("group", "is_active")
    search_fields = ("name", "hostname")
    list_select_related = ("group",)
    actions = ["test_connection"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Server]:
        queryset: QuerySet[Server] = super().get_queryset(request)
        return queryset.annotate(
            used=Count("accounts", filter=~Q(accounts__status=AccountStatus.REMOVED))
        )

    @admin.display(description="accounts", ordering="used")
    def accounts_used(self, server: Server) -> int:
        used: int = getattr(server, "used", 0)
        return used

    def save_model(self, request: HttpRequest, obj: Server, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("secret"):
            services.server_secret_set(server=obj, secret=form.cleaned_data["secret"])

    @admin.action(description="Test connection")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[Server]) -> None:
        for server in queryset.select_related("group"):
            try:
                answer = services.server_test(server=server)
            except ModuleError as exc:
                self.message_user(request, f"{server.name}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{server.name}: connected ({answer}).")


class ModuleLogInline(admin.TabularInline[ModuleLog, Account]):
    model = ModuleLog
    extra = 0
    fields = ("created_at", "action", "method", "url", "status_code", "error")
    readonly_fields = fields
    can_delete = False
    ordering = ["-created_at", "-pk"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(RecordAdminMixin[Account], admin.ModelAdmin[Account]):
    list_display = ("reference", "username", "domain", "server", "package", "status")
    list_filter = ("status", "server")
    search_fields = ("reference", "username", "domain", "email")
    list_select_related = ("server",)
    exclude = ("password_once_encrypted",)
    inlines = [ModuleLogInline]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [
            f for f in super().get_readonly_fields(request, obj) if f != "password_once_encrypted"
        ]


@admin.register(ModuleLog)
class ModuleLogAdmin(RecordAdminMixin[ModuleLog], admin.ModelAdmin[ModuleLog]):
    list_display = ("created_at", "server", "account", "action", "method", "status_code", "error")
    list_filter = ("action", "server", ("error", admin.EmptyFieldListFilter))
    search_fields = ("account__reference", "account__username", "url", "error")
    list_select_related = ("server", "account")
    date_hierarchy = "created_at"
