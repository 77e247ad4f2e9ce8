from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import URLPattern, path

from core.admin import SearchableChoicesFilter, searchable_filter_media
from core.exceptions import ApplicationError
from core.staff import customer_section_page, customer_sections

from . import services
from .models import User


class CustomerChangeForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


class CustomerCreationForm(AdminUserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email", "full_name")


CUSTOMER_ACTIONS = {
    "password-reset": "Send a password reset",
    "resend-verification": "Resend the verification email",
    "end-sessions": "Close all sessions",
    "suspend": "Suspend the account",
}


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    form = CustomerChangeForm
    add_form = CustomerCreationForm
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "business_name", "phone", "country", "is_staff")
    list_filter = ("is_staff", "is_active", ("country", SearchableChoicesFilter))
    search_fields = ("full_name", "email", "phone", "business_name")
    readonly_fields = ("date_joined", "last_login")

    change_form_template = "admin/accounts/user/customer_change_form.html"

    @property
    def media(self) -> forms.Media:
        return super().media + searchable_filter_media()

    def get_urls(self) -> list[URLPattern]:
        action = self.admin_site.admin_view(self.customer_action)
        return [
            path(
                "<path:object_id>/customer/<slug:action>/",
                action,
                name="accounts_user_customer_action",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, object] | None = None,
    ) -> HttpResponse:
        """The customer page: the profile form, then every app's list of what the customer
        has (core.staff sections: services, orders, invoices, payments, cards, consents,
        sessions), each paginated on its own, and the account actions."""
        customer = self.get_object(request, object_id)
        sections = (
            [
                customer_section_page(section, customer, request.GET.get(f"{section.key}-page"))
                for section in customer_sections()
            ]
            if customer is not None
            else []
        )
        context = {
            "customer_sections": sections,
            "customer_actions": CUSTOMER_ACTIONS,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def customer_action(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """One of CUSTOMER_ACTIONS, by POST from the customer page, for staff who may
        change customers."""
        customer = self.get_object(request, object_id)
        if customer is None or action not in CUSTOMER_ACTIONS:
            raise Http404("No such customer or action.")
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, customer):
            raise PermissionDenied
        try:
            if action == "password-reset":
                services.user_send_password_reset(request=request, user=customer)
                done = f"Password reset email sent to {customer.email}."
            elif action == "resend-verification":
                services.user_resend_verification(request=request, user=customer)
                done = f"Verification email sent again to {customer.email}."
            elif action == "end-sessions":
                ended = services.user_sessions_end(user=customer)
                done = f"{ended} session(s) of {customer.email} closed."
            else:
                ended = services.user_suspend(user=customer)
                done = f"{customer.email} is suspended: sign-in refused, {ended} session(s) closed."
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.log_change(request, customer, f"Customer page: {CUSTOMER_ACTIONS[action]}")
            self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:accounts_user_change", customer.pk)

    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Customer", {"fields": ("full_name", "business_name", "phone")}),
        ("Restriction of processing", {"fields": ("processing_restricted_at",)}),
        (
            "Mailing address",
            {
                "fields": (
                    "address_line1",
                    "address_line2",
                    "city",
                    "postcode",
                    "region",
                    "country",
                )
            },
        ),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "password1", "password2"),
            },
        ),
    )
