"""No secret from a path reaches a log: the logs of a full sign-up, email confirmation,
password reset and unsubscribe are grepped for every token they used."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from django.core import mail
from django.urls import reverse

from core.logs import RedactPathsFilter
from core.redact import redact_path
from notifications.tokens import make_unsubscribe_token
from tests.helpers import SIGNUP

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What our console handler (the one production logs go through) writes."""
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler)
        and any(isinstance(f, RedactPathsFilter) for f in h.filters)
    ]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    logging.getLogger("django.request").setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def test_a_full_sign_up_reset_and_unsubscribe_log_no_token(
    client, log_output, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), SIGNUP)
    body = str(mail.outbox[-1].body)
    confirm_key = re.search(r"/accounts/confirm-email/([^/\s]+)/", body).group(1)
    client.get(f"/accounts/confirm-email/{confirm_key}/")
    client.post(f"/accounts/confirm-email/{confirm_key}/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": SIGNUP["email"]})
    body = str(mail.outbox[-1].body)
    reset = re.search(r"/accounts/password/reset/key/(\S+?)/", body).group(1)
    client.get(f"/accounts/password/reset/key/{reset}/", follow=True)
    from accounts.models import User

    user = User.objects.get(email=SIGNUP["email"])
    token = make_unsubscribe_token(user_id=user.pk, purpose="marketing_email")
    client.get(f"/unsubscribe/{token}/")
    client.post(f"/unsubscribe/{token}/")
    # Requests Django logs with their path: a refused token, a page that does not exist.
    client.get(f"/unsubscribe/{token}x/")
    client.get(f"/no-such-page/{token}/?email={SIGNUP['email']}")

    logged = log_output.getvalue()
    assert "Bad Request" in logged and "Not Found" in logged
    for secret in (confirm_key, reset.rsplit("-", 1)[-1], token, SIGNUP["email"]):
        assert secret not in logged


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/unsubscribe/abc.def-ghi/", "/unsubscribe/<token>/"),
        ("/accounts/confirm-email/MQ:1vQ:abcdef/", "/accounts/confirm-email/<key>/"),
        ("/billing/invoices/12/", "/billing/invoices/<pk>/"),
        ("/plans/?next=/x&email=a@b.example", "/plans/?<redacted>"),
        ("/nowhere/" + "x" * 30 + "/", "/nowhere/<redacted>/"),
    ],
)
def test_a_path_is_logged_as_its_pattern(path, logged):
    assert redact_path(path) == logged
