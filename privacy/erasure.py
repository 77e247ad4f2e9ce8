"""Runs an erasure: a last email, then each app's erase, one transaction per app.

Each app's step is recorded (DataRequest.steps_done) in the same transaction as its
erase, so a failure half-way leaves the finished apps recorded and the next run starts
at the app that failed. accounts/ goes last: its erase removes the email address and
the sign-in the other steps may still read.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from core.personal import ErasureBlocker

from . import discovery
from .models import DataRequest

FAREWELL = "farewell-email"
LAST = ("accounts",)


def blockers(user: User) -> list[ErasureBlocker]:
    """Everything any app says must be cleared before the customer can be erased."""
    return [found for source in discovery.sources() for found in source.erasure_blockers(user)]


def steps() -> list[str]:
    """The order of an erasure: the farewell email, every app, accounts last."""
    labels = [source.app_label for source in discovery.sources()]
    return [FAREWELL, *[x for x in labels if x not in LAST], *[x for x in labels if x in LAST]]


def _farewell(user: User) -> None:
    """Sent straight away, not through the outbox: notifications' own erase step
    deletes the customer's outbox rows, and the address is gone after accounts'."""
    context = {"user": user}
    message = EmailMultiAlternatives(
        subject=render_to_string("privacy/email/erasure-done-subject.txt", context).strip(),
        body=render_to_string("privacy/email/erasure-done-body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.send()


def run(data_request: DataRequest) -> None:
    """Runs the steps not yet done, each in its own transaction, recording each."""
    sources = {source.app_label: source for source in discovery.sources()}
    user = data_request.user
    for step in steps():
        if step in data_request.steps_done:
            continue
        with transaction.atomic():
            if step == FAREWELL:
                _farewell(user)
            else:
                sources[step].erase(user)
            data_request.steps_done = [*data_request.steps_done, step]
            DataRequest.objects.filter(pk=data_request.pk).update(
                steps_done=data_request.steps_done
            )
        user.refresh_from_db()
    DataRequest.objects.filter(pk=data_request.pk).update(
        status=DataRequest.Status.DONE, completed_at=timezone.now(), error=""
    )
