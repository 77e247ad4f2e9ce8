from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        autodiscover_modules("dashboard")
        autodiscover_modules("staff")


class OnePanelAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (allauth sign-in, MFA for staff) as admin.site."""

    default = False
    default_site = "core.admin.OnePanelAdminSite"
