from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from core.admin import SearchableChoicesFilter, searchable_filter_media

from .models import User


class CustomerChangeForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


class CustomerCreationForm(AdminUserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email", "full_name")


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    form = CustomerChangeForm
    add_form = CustomerCreationForm
    ordering = ("-date_joined",)
    list_display = ("email", "full_name", "business_name", "phone", "country", "is_staff")
    list_filter = ("is_staff", "is_active", ("country", SearchableChoicesFilter))
    search_fields = ("full_name", "email", "phone", "business_name")
    readonly_fields = ("date_joined", "last_login")

    @property
    def media(self) -> forms.Media:
        return super().media + searchable_filter_media()

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
