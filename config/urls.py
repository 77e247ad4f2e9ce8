from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views

urlpatterns = [
    path("", include("core.urls")),
    path("account/", include("accounts.urls")),
    # Our sessions page answers allauth's URL (name usersessions_list) with a
    # constant number of queries; everything else under /accounts/ is allauth's.
    path("accounts/sessions/", accounts_views.sessions),
    path("accounts/", include("allauth.urls")),
    path("", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("", include("privacy.urls")),
    path("", include("billing.urls")),
    path("verification/", include("verification.urls")),
    path("", include("support.urls")),
]

# A database that cannot be reached answers 503 with Retry-After (core/errors.py).
handler500 = "core.errors.server_error"
