"""Admin pieces every app shares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast

from allauth.account.decorators import secure_admin_login
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from .staff import overview_panels


class SearchableChoicesFilter(admin.ChoicesFieldListFilter):
    """A filter with hundreds of choices (a country) as one searchable select.

    Django lists every choice as a link (about 250 countries: a 6,000 px column);
    this renders them as one select that Django's vendored Select2 makes searchable.
    The ModelAdmin using it adds `searchable_filter_media()` to its media.
    """

    template = "admin/onepanel/searchable_filter.html"


def searchable_filter_media() -> forms.Media:
    """What a changelist with a `SearchableChoicesFilter` adds to its ModelAdmin's media.

    Select2 must load between jQuery and jquery.init.js (which hides the global
    jQuery), as Django's own autocomplete widget orders it; Media merging keeps that
    order and loads the admin's jQuery once.
    """
    extra = "" if settings.DEBUG else ".min"
    return forms.Media(
        js=[
            f"admin/js/vendor/jquery/jquery{extra}.js",
            f"admin/js/vendor/select2/select2.full{extra}.js",
            "admin/js/jquery.init.js",
            "onepanel/admin/searchable_filter.js",
        ],
        css={
            "screen": [f"admin/css/vendor/select2/select2{extra}.css", "admin/css/autocomplete.css"]
        },
    )


class RecordAdminMixin[M: Model]:
    """A record staff read but never add, edit or delete (payments, credit notes, cards).

    Every field is read-only; actions may still change state through services. Typed
    code names the model as ModelAdmin does: `RecordAdminMixin[Case], ModelAdmin[Case]`.
    `readonly_displays` shows a field through a display method of the admin instead
    of its raw value: {"amount": "amount_with_currency"}, an amount in cents as money.
    """

    model: type[M]
    readonly_displays: dict[str, str] = {}

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [
            self.readonly_displays.get(field.name, field.name) for field in self.model._meta.fields
        ]

    def get_exclude(self, request: HttpRequest, obj: object = None) -> list[str]:
        return list(self.readonly_displays)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OnePanelAdminSite(admin.AdminSite):
    """The staff site: signed in through allauth, and only with a second factor when required.

    Django's own admin login knows nothing of allauth's rate limits, MFA or user
    sessions, so the login view hands over to allauth's (`secure_admin_login`).
    With ADMIN_REQUIRE_MFA (production), a staff member without TOTP is sent to
    set it up before any admin page opens.
    """

    site_header = "OnePanel staff"
    site_title = "OnePanel staff"

    index_template = "admin/onepanel_index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> TemplateResponse:
        """The start page is the staff overview: the apps' panels (core.staff), then the
        model list. Each panel runs a fixed number of queries."""
        context = {"overview": overview_panels(request), **(extra_context or {})}
        return super().index(request, context)

    def login(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        response: HttpResponse = secure_admin_login(super().login)(request, extra_context)
        return response

    def admin_view[V: Callable[..., HttpResponseBase]](self, view: V, cacheable: bool = False) -> V:
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def enrolled_view(
            request: HttpRequest, *args: object, **kwargs: object
        ) -> HttpResponseBase:
            user = request.user
            if (
                settings.ADMIN_REQUIRE_MFA
                and user.is_active
                and user.is_staff
                and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
            ):
                messages.warning(
                    request, "Set up two-factor authentication before opening the staff site."
                )
                return redirect("mfa_activate_totp")
            return inner(request, *args, **kwargs)

        # The same view, behind one more check: callers keep its signature.
        return cast(V, enrolled_view)
