from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.privacy_policy, name="policy"),
    path("privacy/v<int:version>/", views.privacy_policy, name="policy_version"),
    path("terms/", views.terms, name="terms"),
    path("terms/v<int:version>/", views.terms, name="terms_version"),
    path("cookies/", views.cookies, name="cookies"),
    path("cookies/consent/", views.consent_save, name="consent"),
    path("measure/", views.beacon, name="beacon"),
    path("account/privacy/", views.index, name="index"),
    path("account/privacy/withdraw/", views.withdraw, name="withdraw"),
    path("account/privacy/accept/", views.acknowledge, name="acknowledge"),
    path("account/security/", views.security, name="security"),
    path("account/privacy/export/", views.export_request, name="export"),
    path("account/privacy/export/<int:pk>/", views.export_download, name="export_download"),
    path("account/privacy/erase/", views.erasure, name="erasure"),
    path("account/privacy/erase/<int:pk>/cancel/", views.erasure_cancel, name="erasure_cancel"),
    path(
        "privacy/erasure/cancel/<str:token>/",
        views.erasure_cancel_link,
        name="erasure_cancel_link",
    ),
]
