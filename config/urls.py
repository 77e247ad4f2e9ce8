from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "OnePanel staff"
admin.site.site_title = "OnePanel staff"

urlpatterns = [
    path("", include("core.urls")),
    path("account/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("billing.urls")),
]
