"""accounts.tables writes the session rows the template's loop wrote (kept here as the
reference), and what came from the visitor's browser is text, not markup."""

from __future__ import annotations

import datetime as dt

from allauth.usersessions.models import UserSession
from django.template import engines
from django.test.html import parse_html
from django.utils import timezone

from accounts.tables import session_rows
from accounts.useragent import describe

# ua-parser names this browser "b>bot": markup from the visitor reaches the page.
HOSTILE = "Mozilla/5.0 (compatible; <b>bot</b>/2.1; +http://example.com/)"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

# The loop of usersessions/usersession_list.html before the rows moved to Python (the
# `client` filter it used was describe(), given here as `c`).
SESSION_ROW = """{% load humanize %}{% for session, c in rows %}
      <tr>
        <td data-label="Browser">{{ c.browser }}</td>
        <td data-label="Operating system">{{ c.os }}</td>
        <td data-label="Device">{{ c.device }}</td>
        <td data-label="IP address">{{ session.ip }}</td>
        <td data-label="Signed in"><time datetime="{{ session.created_at|date:'c' }}" title="{{ session.created_at }}">{{ session.created_at|naturaltime }}</time></td>
        <td data-label="Last active"><time datetime="{{ session.last_seen_at|date:'c' }}" title="{{ session.last_seen_at }}">{{ session.last_seen_at|naturaltime }}</time></td>
        <td>{% if session.session_key == current_session_key %}<span class="badge badge--ok">This browser</span>{% endif %}</td>
      </tr>
    {% endfor %}"""  # noqa: E501


def _sessions(alice) -> list[UserSession]:
    now = timezone.now()
    made = []
    for n, (user_agent, ip, age) in enumerate(
        [
            (IPHONE, "203.0.113.7", dt.timedelta(seconds=20)),
            (HOSTILE, "2001:db8::1", dt.timedelta(hours=5, minutes=3)),
            ("", "198.51.100.1", dt.timedelta(days=40)),
        ]
    ):
        session = UserSession.objects.create(
            user=alice, ip=ip, user_agent=user_agent, session_key=f"key-{n}"
        )
        UserSession.objects.filter(pk=session.pk).update(
            created_at=now - age, last_seen_at=now - age / 2
        )
        session.refresh_from_db()
        made.append(session)
    return made


def test_session_rows_are_the_markup_of_the_templates_loop(alice, settings):
    settings.TIME_ZONE = "Europe/London"  # the title and datetime are local times
    sessions = _sessions(alice)
    ours = session_rows(sessions, current_session_key="key-1")
    theirs = (
        engines["django"]
        .from_string(SESSION_ROW)
        .render(
            {
                "rows": [(s, describe(s.user_agent)) for s in sessions],
                "current_session_key": "key-1",
            }
        )
    )

    assert parse_html(ours) == parse_html(theirs)
    assert ours.count("This browser") == 1
    assert "ago" in ours


def test_a_hostile_user_agent_is_text_not_markup(alice):
    session = UserSession.objects.create(
        user=alice, ip="203.0.113.9", user_agent=HOSTILE, session_key="hostile"
    )
    html = session_rows([session], current_session_key=None)

    assert describe(HOSTILE).browser.startswith("b>bot")
    assert '<td data-label="Browser">b&gt;bot' in html
    assert "b>bot" not in html
    assert "This browser" not in html
