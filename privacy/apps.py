from __future__ import annotations

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up
        from cookie_consent.models import Cookie, CookieGroup
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_delete, post_save

        from . import discovery, receivers
        from .models import CookieFacts

        discovery.discover()
        # allauth announces a sign-up; the acceptance it implies is recorded here so
        # accounts/ (a lower floor) never imports privacy.
        user_signed_up.connect(receivers.record_signup_acceptance, dispatch_uid="privacy-signup")
        user_logged_in.connect(receivers.record_session, dispatch_uid="privacy-session")
        user_logged_out.connect(
            receivers.new_visitor_after_logout, dispatch_uid="privacy-new-visitor"
        )
        for model in (Cookie, CookieGroup, CookieFacts):
            for signal in (post_save, post_delete):
                signal.connect(
                    receivers.declaration_changed,
                    sender=model,
                    dispatch_uid=f"privacy-declaration-{model.__name__}-{signal}",
                )
