"""Email: one template set per kind, wrapped in one layout, sent through Django's mailers."""

from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers, make_msgid
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME
from django.template import Context
from django.template.backends.django import Template as DjangoBackendTemplate
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone

from accounts.models import User
from core.links import absolute_url

from . import mime
from .errors import DeliveryError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Renders a plain-text template without HTML escaping (an & stays an &)."""
    # Our one template engine is Django's: its wrapper holds the engine's own Template.
    template = cast(DjangoBackendTemplate, get_template(template_name))
    return template.template.render(Context(context, autoescape=False))


def layout_context(user: User | None) -> dict[str, Any]:
    """What every message may use: who it is for and who sends it."""
    return {
        "user": user,
        "site_name": settings.SITE_NAME,
        "site_url": absolute_url(),
        "operator_name": settings.OPERATOR_NAME,
        "operator_address": settings.OPERATOR_ADDRESS,
    }


def render_email(
    *, user: User | None, kind: str, context: dict[str, Any], unsubscribe_url: str = ""
) -> RenderedEmail:
    """Renders notifications/email/<kind>-{subject.txt,body.txt,body.html} inside the layout.

    With an unsubscribe_url (marketing), the message carries RFC 8058 one-click
    headers and the layout shows a visible Unsubscribe link.
    """
    ctx = {**context, **layout_context(user), "unsubscribe_url": unsubscribe_url}
    prefix = f"notifications/email/{kind}"
    subject = " ".join(render_text(f"{prefix}-subject.txt", ctx).split())
    text_body = render_text(f"{prefix}-body.txt", ctx).strip()
    html_body = render_to_string(f"{prefix}-body.html", ctx)
    text = render_text("notifications/email/layout.txt", {**ctx, "body": text_body})
    html = render_to_string(
        "notifications/email/layout.html",
        # The kind's body was escaped when it was rendered above.
        {**ctx, "subject": subject, "body": mark_safe(html_body)},  # noqa: S308
    )
    headers: dict[str, str] = {}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return RenderedEmail(subject=subject, text=text, html=html, headers=headers)


class _MailerCache(threading.local):
    """One open mailer connection per worker thread, reused from message to message.

    Opening an SMTP session per message costs a round of greetings; a worker
    keeps one open and rebuilds it when MAILERS changes or the session breaks.
    """

    key: str = ""
    mailer: BaseEmailBackend | None = None
    # DEFAULT_FROM_EMAIL and its envelope address (validated, IDNA domain).
    sender: tuple[str, str] = ("", "")

    def get(self) -> BaseEmailBackend:
        key = repr(settings.MAILERS.get("default"))
        if self.mailer is None or key != self.key:
            self.drop()
            self.mailer = mailers.default
            self.key = key
        self.mailer.open()
        return self.mailer

    def envelope_sender(self, mailer: SMTPBackend) -> str:
        if self.sender[0] != settings.DEFAULT_FROM_EMAIL:
            from_email = settings.DEFAULT_FROM_EMAIL
            self.sender = (from_email, mailer.prep_address(from_email))
        return self.sender[1]

    def drop(self) -> None:
        if self.mailer is not None:
            try:
                self.mailer.close()
            except Exception:  # a broken session may fail to close; it is dropped anyway
                logger.debug("Closing a broken mailer connection failed", exc_info=True)
        self.mailer = None


_mailer_cache = _MailerCache()


@dataclass(frozen=True)
class _Outgoing:
    message_id: str
    recipient: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]

    def send(self, mailer: BaseEmailBackend) -> None:
        """Over Django's SMTP mailer, the bytes come from notifications.mime (a tenth of
        the work of EmailMessage.message(), the one cost that mattered per message,
        docs/benchmarks.md) and go straight into its open session; any other mailer
        (the console, tests' locmem, a subclass that may sign or rewrite messages)
        gets Django's EmailMessage."""
        connection = getattr(mailer, "connection", None)
        if type(mailer) is not SMTPBackend or connection is None:
            mailer.send_messages([self.django_message()])
            return
        tz = get_current_timezone() if settings.EMAIL_USE_LOCALTIME else UTC
        wire = mime.email_bytes(
            sender=settings.DEFAULT_FROM_EMAIL,
            recipient=self.recipient,
            subject=self.subject,
            text=self.text,
            html=self.html,
            headers=self.headers,
            message_id=self.message_id,
            date=datetime.now(tz),
        )
        connection.sendmail(
            _mailer_cache.envelope_sender(mailer), [mailer.prep_address(self.recipient)], wire
        )

    def django_message(self) -> EmailMultiAlternatives:
        email = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[self.recipient],
            headers={**self.headers, "Message-ID": self.message_id},
        )
        if self.html:
            email.attach_alternative(self.html, "text/html")
        return email


def _send_reusing_connection(outgoing: _Outgoing) -> None:
    try:
        outgoing.send(_mailer_cache.get())
    except smtplib.SMTPServerDisconnected:
        # The server closed the kept-open session (idle timeout) before taking
        # the message: send it once on a fresh session.
        _mailer_cache.drop()
        outgoing.send(_mailer_cache.get())


def send_email(
    *, message_id: int, recipient: str, subject: str, text: str, html: str, headers: dict[str, str]
) -> str:
    """Hands one message to the default mailer; returns its Message-ID.

    SMTP 5xx answers and refused recipients are permanent; 4xx answers and
    connection trouble are transient. After any error the session is dropped.
    """
    msgid = make_msgid(idstring=f"outbox-{message_id}", domain=DNS_NAME.get_fqdn())
    outgoing = _Outgoing(
        message_id=msgid,
        recipient=recipient,
        subject=subject,
        text=text,
        html=html,
        headers=headers,
    )
    try:
        _send_reusing_connection(outgoing)
    except smtplib.SMTPRecipientsRefused as error:
        _mailer_cache.drop()
        codes = [code for code, _ in error.recipients.values()]
        raise DeliveryError(
            f"Recipient refused: {error.recipients}", permanent=all(c >= 500 for c in codes)
        ) from error
    except smtplib.SMTPResponseException as error:
        _mailer_cache.drop()
        # Authentication failures are the operator's configuration, not the
        # recipient's: retry so mail flows again once the settings are fixed.
        permanent = error.smtp_code >= 500 and not isinstance(
            error, smtplib.SMTPAuthenticationError
        )
        raw = error.smtp_error
        detail = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        raise DeliveryError(
            f"SMTP {error.smtp_code} {detail}".strip(), permanent=permanent
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        _mailer_cache.drop()
        raise DeliveryError(f"{type(error).__name__}: {error}") from error
    return msgid
