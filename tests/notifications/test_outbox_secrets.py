"""A first password is in the welcome email and nowhere in plain text: not in any text
column of its outbox row (nor of the service or the panel account) before it is sent,
kept encrypted beside the row until a real SMTP server (aiosmtpd) has the email, then
wiped; a message that fails for good loses it too."""

from __future__ import annotations

from django.db import models

from billing.models import Service
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from billing.services.orders import CartLine, order_place
from notifications import secrets
from notifications.delivery import message_deliver
from notifications.models import OutboxMessage, Status
from notifications.services import message_resend
from provisioning.models import Account

PASSWORD = "S3cret-first-pass"  # what the fake panel answers a create with


def text_columns(row: models.Model) -> str:
    """Every text column of the row as stored (JSON columns too), joined."""
    parts = []
    for field in row._meta.concrete_fields:
        value = getattr(row, field.attname)
        if isinstance(value, str | dict | list):
            parts.append(str(value))
    return "\n".join(parts)


def ready_email(smtp_server):
    """The welcome email, once the SMTP server has it (the payment's email may come too)."""
    for _ in range(2):
        found = [m for m in smtp_server.messages if "is ready" in str(m["Subject"])]
        if found:
            return found[-1]
        smtp_server.recorder.wait_for(len(smtp_server.messages) + 1, timeout=10)
    raise AssertionError("The SMTP server never got the welcome email.")


def pay_for_a_hosted_plan(user, product, capture):
    """Order and pay: the worker creates the account and queues the welcome email, whose
    delivery the test runs itself (on_commit callbacks other than the send)."""
    with capture(execute=True):
        order = order_place(
            user=user, lines=[CartLine(product_id=product.pk, cycle="monthly")], currency="EUR"
        )
    with capture(execute=False) as callbacks:
        invoice_mark_paid_outside_stripe(invoice=order.invoices.get())
    for callback in callbacks:  # the set-up on the panel, not yet any email
        callback()
    return Service.objects.get(order=order)


def test_the_password_is_only_in_the_email_the_smtp_server_receives(
    alice,
    hosted_plan,  # noqa: F811 (the fixture imported above)
    fake_panel,  # noqa: F811
    smtp_server,
    django_capture_on_commit_callbacks,
):
    OutboxMessage.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=False) as sends:
        service = pay_for_a_hosted_plan(alice, hosted_plan, django_capture_on_commit_callbacks)
    welcome = OutboxMessage.objects.get(kind="billing-service-ready")
    assert welcome.status == Status.QUEUED

    # Before sending: no plain password in the row, the service or the panel account.
    assert PASSWORD not in text_columns(welcome)
    assert secrets.placeholder("password") in welcome.body_text
    assert welcome.secrets_encrypted and PASSWORD not in welcome.secrets_encrypted
    service.refresh_from_db()
    assert PASSWORD not in text_columns(service)
    assert PASSWORD not in text_columns(Account.objects.get(pk=service.account_id))

    assert message_deliver(message_id=welcome.pk) == Status.SENT
    received = ready_email(smtp_server)
    assert f"Password: {PASSWORD}" in received.get_body(("plain",)).get_content()
    assert PASSWORD in received.get_body(("html",)).get_content()
    assert "[[secret:" not in received.as_string()

    welcome.refresh_from_db()
    assert welcome.secrets_encrypted == ""
    assert PASSWORD not in text_columns(welcome)
    assert not [m for m in smtp_server.messages if PASSWORD in m.as_string()][1:]
    del sends


def test_a_message_that_fails_for_good_loses_its_secret_and_a_resend_says_so(
    alice,
    hosted_plan,  # noqa: F811 (the fixture imported above)
    fake_panel,  # noqa: F811
    smtp_server,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        pay_for_a_hosted_plan(alice, hosted_plan, django_capture_on_commit_callbacks)
    welcome = OutboxMessage.objects.get(kind="billing-service-ready")
    smtp_server.recorder.refuse_next.append("550 No such mailbox")

    assert message_deliver(message_id=welcome.pk) == Status.FAILED
    welcome.refresh_from_db()
    assert welcome.secrets_encrypted == ""

    with django_capture_on_commit_callbacks(execute=True):
        assert message_resend(message=welcome)
    received = ready_email(smtp_server)
    body = received.get_body(("plain",)).get_content()
    assert PASSWORD not in body and secrets.GONE in body
