from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in
        from auditlog.registry import auditlog
        from django.contrib.auth import signals as auth_signals

        from .backends import forget_changed_user, update_last_login
        from .middleware import mark_tracked_at_login
        from .models import User

        post_save.connect(forget_changed_user, sender=User, dispatch_uid="accounts-user-cache")
        post_delete.connect(forget_changed_user, sender=User, dispatch_uid="accounts-user-cache")
        # Django's own, in place (same dispatch_uid), minus auditlog's read (backends).
        auth_signals.user_logged_in.disconnect(dispatch_uid="update_last_login")
        auth_signals.user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")
        # Connected after allauth.usersessions' own receiver (INSTALLED_APPS order).
        user_logged_in.connect(mark_tracked_at_login, dispatch_uid="accounts-session-tracked")
        # Changes to a customer's account (by staff in the admin, or by themselves) are
        # audited; the password hash and the sign-in time are not changes worth an entry.
        # Nor are the other apps' rows pointing at the customer: on a create or a delete
        # auditlog would read each reverse one-to-one (a query each: billing account,
        # notification preferences) and note every reverse foreign key's manager as a
        # "change" ("billing.Invoice.None").
        reverse = [f.name for f in User._meta.get_fields() if f.auto_created and not f.concrete]
        auditlog.register(User, exclude_fields=["password", "last_login", *reverse])
