"""support.tables writes the ticket rows the template's loop wrote (kept here as the
reference), escapes the subject, and links each row to its own ticket."""

from __future__ import annotations

import re

from django.template import engines
from django.test.html import parse_html
from django.urls import resolve, reverse
from django.utils.html import escape

from support import selectors, services
from support.tables import TICKET_COLUMNS, ticket_rows

HOSTILE = "<script>alert(\"x\")</script> & 'Co'"

# The loop of support/tickets.html before the rows moved to Python.
TICKET_ROW = """{% for ticket in tickets %}
    <tr>
      <td data-label="Ticket"><a href="{% url 'support:ticket' ticket.pk %}">{{ ticket.reference }} {{ ticket.subject }}</a></td>
      <td data-label="Department">{{ ticket.department.name }}</td>
      <td data-label="Status"><span class="badge {% if ticket.status == 'awaiting_customer' %}badge--warn{% elif ticket.status == 'closed' %}{% else %}badge--ok{% endif %}">{{ ticket.get_status_display }}</span></td>
      <td data-label="Messages">{{ ticket.message_count }}</td>
      <td data-label="Last update">{{ ticket.updated_at|date:"j M Y, H:i" }}</td>
    </tr>
  {% endfor %}"""  # noqa: E501


def _tickets(alice, charlie, department):
    opened = [
        services.ticket_open(user=alice, department=department, subject=subject, body="Hello")
        for subject in ["Site is down", HOSTILE, "Invoice question", "DNS"]
    ]
    services.ticket_staff_reply(ticket=opened[1], staff=charlie, body="We look into it.")
    services.ticket_add_note(ticket=opened[1], staff=charlie, body="Internal: not counted")
    services.ticket_close(ticket=opened[2])
    return opened


def test_ticket_rows_are_the_markup_of_the_templates_loop(alice, charlie, support_department):
    _tickets(alice, charlie, support_department)
    listed = selectors.customer_tickets(user=alice, status="all")
    ours = ticket_rows(listed.values(*TICKET_COLUMNS))
    theirs = engines["django"].from_string(TICKET_ROW).render({"tickets": list(listed)})

    assert parse_html(ours) == parse_html(theirs)
    assert {"badge--warn", "badge--ok"} <= set(re.findall(r'class="badge ([^"]*)"', ours))
    assert 'class="badge "' in ours  # the closed one
    assert '<td data-label="Messages">2</td>' in ours  # the internal note is not counted


def test_a_hostile_subject_is_text_not_markup(alice, charlie, support_department):
    _tickets(alice, charlie, support_department)
    html = ticket_rows(
        selectors.customer_tickets(user=alice, status="all")
        .filter(subject=HOSTILE)
        .values(*TICKET_COLUMNS)
    )

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;Co&#x27;</a>" in html


def test_each_row_links_to_its_own_ticket(alice_client, alice, charlie, support_department):
    opened = _tickets(alice, charlie, support_department)
    html = alice_client.get(reverse("support:tickets"), {"status": "all"}).content.decode()
    links = re.findall(r'<td data-label="Ticket"><a href="([^"]+)">', html)

    assert len(links) == len(opened)
    for link in links:
        match = resolve(link)
        assert match.view_name == "support:ticket"
        ticket = next(t for t in opened if t.pk == match.kwargs["pk"])
        page = alice_client.get(link)
        assert page.status_code == 200
        assert escape(ticket.subject) in page.content.decode()
