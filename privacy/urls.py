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
]
