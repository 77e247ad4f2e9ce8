"""Notifications on the staff overview: messages that failed in the last 7 days."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from core.dashboard import Panel
from core.staff import overview_panel

from .models import OutboxMessage, Status


@overview_panel(order=20)
def failed_messages(request: HttpRequest) -> Panel:
    """One query: emails and texts that gave up in the last 7 days."""
    since = timezone.now() - dt.timedelta(days=7)
    count = OutboxMessage.objects.filter(status=Status.FAILED, failed_at__gte=since).count()
    return Panel(
        template="notifications/staff/_overview.html",
        context={
            "failed_messages": count,
            "link": reverse("admin:notifications_outboxmessage_changelist")
            + "?status__exact=failed",
        },
    )
