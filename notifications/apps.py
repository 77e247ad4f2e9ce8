from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # accounts sits on a lower floor and must not import notifications, so
        # the welcome email listens to allauth's own sign-up signal.
        from allauth.account.signals import user_signed_up

        from .receivers import send_welcome_email

        user_signed_up.connect(send_welcome_email, dispatch_uid="notifications-welcome")
