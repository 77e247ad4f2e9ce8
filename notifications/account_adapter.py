"""allauth's account emails through the outbox.

This adapter is ACCOUNT_ADAPTER: it extends accounts' adapter (sign-up policy, login
limits) from the floor above, since accounts may not import notifications.
"""

from __future__ import annotations

from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from accounts.adapters import AccountAdapter
from accounts.models import User

from .services import email_queue

# allauth's emails that carry a link or code which signs in or proves an address.
SECRET_EMAILS = frozenset(
    {
        "email_confirmation",
        "email_confirmation_signup",
        "password_reset_key",
        "login_code",
        "password_reset_code",
        "email_confirmation_code",
    }
)


class OutboxAccountAdapter(AccountAdapter):
    """Confirmation, password reset, "unknown account" and "account already exists"
    emails are queued in the outbox instead of sent during the request, so an SMTP
    outage neither fails sign-up or reset nor loses the email: a worker retries it."""

    def send_mail(self, template_prefix: str, email: str, context: dict[str, object]) -> None:
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email, "current_site": get_current_site(request)}
            | context,
        )
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", []) or []
                if mimetype == "text/html"
            ),
            "",
        )
        user = context.get("user")
        if not isinstance(user, User):
            user = User.objects.filter(email__iexact=email).first()
        name = template_prefix.rsplit("/", 1)[-1]
        email_queue(
            user=user,
            recipient=email,
            kind=f"allauth-{name}",
            subject=message.subject,
            text=message.body,
            html=str(html),
            body_secret=name in SECRET_EMAILS,
        )
