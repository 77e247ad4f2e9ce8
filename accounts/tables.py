"""The rows of the sessions page, written in Python.

The same markup the template's loop gave (tests/accounts/test_tables.py compares them,
a hostile User-Agent included): through the template each row went through the
`client`, `date` and `naturaltime` filters and a `{% with %}`. The browser, system,
device and IP come from the visitor and are escaped with html.escape (autoescape's
escaping without Django's lazy-string wrapper); the rest are our own text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape

from allauth.usersessions.models import UserSession
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe

from .useragent import describe

THIS_BROWSER = '<span class="badge badge--ok">This browser</span>'


def session_rows(sessions: Iterable[UserSession], *, current_session_key: str | None) -> SafeString:
    """One <tr> per session: browser, operating system, device, IP address, when it
    signed in and was last active (as "3 hours ago", the exact time in its title), and
    a badge on the row of the browser asking."""
    return mark_safe(  # noqa: S308 - what came from the visitor is escaped in _session_row
        "".join(_session_row(session, current_session_key) for session in sessions)
    )


def _moment(value: dt.datetime) -> str:
    local = timezone.localtime(value)
    return (
        f'<time datetime="{local.isoformat()}" title="{escape(formats.localize(local))}">'
        f"{escape(NaturalTimeFormatter.string_for(value))}</time>"
    )


def _session_row(session: UserSession, current_session_key: str | None) -> str:
    client = describe(session.user_agent)
    badge = THIS_BROWSER if session.session_key == current_session_key else ""
    return (
        f'<tr><td data-label="Browser">{escape(client.browser)}</td>'
        f'<td data-label="Operating system">{escape(client.os)}</td>'
        f'<td data-label="Device">{escape(client.device)}</td>'
        f'<td data-label="IP address">{escape(str(session.ip))}</td>'
        f'<td data-label="Signed in">{_moment(session.created_at)}</td>'
        f'<td data-label="Last active">{_moment(session.last_seen_at)}</td>'
        f"<td>{badge}</td></tr>"
    )
