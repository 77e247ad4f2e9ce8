from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.delivery import MAX_ATTEMPTS, message_deliver
from notifications.models import Category, Channel, OutboxMessage, Status
from notifications.services import notify

pytestmark = pytest.mark.django_db


def test_it_writes_a_queued_row_and_sends_it_when_the_caller_commits(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = notify(user=alice, kind="welcome", context={})
        # Nothing leaves before the caller's transaction commits.
        assert mail.outbox == []
        assert [row.status for row in rows] == [Status.QUEUED]

    assert len(callbacks) == 1
    row = OutboxMessage.objects.get()
    assert row.status == Status.SENT
    assert row.attempts == 1
    assert row.sent_at is not None
    assert row.provider_id.startswith("<") and f"outbox-{row.pk}" in row.provider_id
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert mail.outbox[0].subject == "Welcome to OnePanel"
    assert mail.outbox[0].extra_headers["Message-ID"] == row.provider_id


def test_it_writes_nothing_when_the_caller_rolls_back(alice, django_capture_on_commit_callbacks):
    class CallerFailed(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(CallerFailed), transaction.atomic():
            notify(user=alice, kind="welcome", context={})
            raise CallerFailed

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_it_renders_text_and_html_inside_the_operator_layout(alice, settings):
    settings.OPERATOR_NAME = "Example Hosting Ltd"
    settings.OPERATOR_ADDRESS = "1 Server Lane, London N1 1AA, United Kingdom"

    [row] = notify(user=alice, kind="welcome", context={})

    for body in (row.body_text, row.body_html):
        assert "Hello Alice," in body
        assert "Example Hosting Ltd" in body
        assert "1 Server Lane, London N1 1AA, United Kingdom" in body
        assert "Unsubscribe" not in body
    assert row.body_html.startswith("<!DOCTYPE html>")
    assert "<p>Hello Alice,</p>" in row.body_html
    assert row.headers == {}
    assert row.category == Category.TRANSACTIONAL


def test_it_does_not_escape_the_text_body(alice):
    alice.full_name = "Ann & Co <Ops>"
    alice.save()

    [row] = notify(user=alice, kind="welcome", context={})

    assert "Hello Ann," in row.body_text
    assert "&amp;" not in row.body_text


def test_it_rejects_an_unknown_channel_or_category(alice):
    with pytest.raises(ValueError, match="channels"):
        notify(user=alice, kind="welcome", context={}, channels=("pigeon",))
    with pytest.raises(ValueError, match="category"):
        notify(user=alice, kind="welcome", context={}, category="gossip")
    assert not OutboxMessage.objects.exists()


def test_a_second_run_of_the_same_task_sends_nothing(alice, smtp_server):
    [row] = notify(user=alice, kind="welcome", context={})  # no commit yet: not dispatched

    assert message_deliver(message_id=row.pk) == Status.SENT
    assert message_deliver(message_id=row.pk) == ""

    assert len(smtp_server.messages) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)


def test_a_row_claimed_by_another_worker_is_left_alone(alice, smtp_server):
    [row] = notify(user=alice, kind="welcome", context={})
    OutboxMessage.objects.filter(pk=row.pk).update(status=Status.SENDING)

    assert message_deliver(message_id=row.pk) == ""
    assert smtp_server.messages == []


def test_a_transient_smtp_error_queues_the_row_again_with_backoff(alice, smtp_server):
    smtp_server.recorder.refuse_next.append("451 4.3.0 Mailbox temporarily unavailable")
    [row] = notify(user=alice, kind="welcome", context={})
    before = timezone.now()

    assert message_deliver(message_id=row.pk) == Status.QUEUED

    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.attempts == 1
    assert "451" in row.last_error
    assert row.next_attempt_at >= before + timedelta(seconds=30)
    # Not before its time: an early duplicate task finds nothing to claim.
    assert message_deliver(message_id=row.pk) == ""
    assert smtp_server.messages == []

    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert message_deliver(message_id=row.pk) == Status.SENT
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")
    assert len(smtp_server.messages) == 1


def test_the_backoff_grows_with_each_attempt(alice, smtp_server):
    [row] = notify(user=alice, kind="welcome", context={})
    delays = []
    for _ in range(3):
        smtp_server.recorder.refuse_next.append("421 4.7.0 Try again later")
        start = timezone.now()
        message_deliver(message_id=row.pk)
        row.refresh_from_db()
        delays.append(row.next_attempt_at - start)
        OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())

    assert delays[0] < delays[1] < delays[2]


def test_a_permanent_smtp_error_fails_the_row_without_retry(alice, smtp_server):
    smtp_server.recorder.refuse_next.append("550 5.1.1 No such user here")
    [row] = notify(user=alice, kind="welcome", context={})

    assert message_deliver(message_id=row.pk) == Status.FAILED

    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert "550" in row.last_error
    assert row.failed_at is not None


def test_an_unreachable_smtp_server_is_transient(alice, settings):
    from tests.helpers import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    [row] = notify(user=alice, kind="welcome", context={})

    assert message_deliver(message_id=row.pk) == Status.QUEUED
    row.refresh_from_db()
    assert "ConnectionRefusedError" in row.last_error


def test_it_gives_up_after_the_last_attempt(alice, smtp_server):
    smtp_server.recorder.refuse_next.append("451 4.3.0 Try again later")
    [row] = notify(user=alice, kind="welcome", context={})
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=MAX_ATTEMPTS - 1)

    assert message_deliver(message_id=row.pk) == Status.FAILED
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, MAX_ATTEMPTS)


def test_transactional_sms_needs_sms_alerts_switched_on(alice):
    from notifications.models import Preferences

    assert notify(user=alice, kind="welcome", context={}, channels=("sms",)) == []

    Preferences.objects.create(user=alice, sms_alerts=True)
    [row] = notify(user=alice, kind="welcome", context={}, channels=("email", "sms"))[1:]
    assert row.channel == Channel.SMS
    assert row.recipient == "+442079460958"


def test_a_worker_keeps_one_smtp_session_for_many_messages(alice, smtp_server):
    rows = [notify(user=alice, kind="welcome", context={})[0] for _ in range(3)]

    for row in rows:
        assert message_deliver(message_id=row.pk) == Status.SENT

    assert len(smtp_server.messages) == 3
    assert len(set(smtp_server.recorder.peers)) == 1


def test_a_session_the_server_closed_is_reopened_without_losing_the_message(alice, settings):
    from aiosmtpd.controller import Controller

    from tests.helpers import free_port
    from tests.servers import SmtpRecorder

    port = free_port()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    first, second = SmtpRecorder(), SmtpRecorder()
    [one] = notify(user=alice, kind="welcome", context={})
    [two] = notify(user=alice, kind="welcome", context={})

    server = Controller(first, hostname="127.0.0.1", port=port)
    server.start()
    assert message_deliver(message_id=one.pk) == Status.SENT
    server.stop()  # drops the kept-open session, as an idle timeout would
    server = Controller(second, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert message_deliver(message_id=two.pk) == Status.SENT
    finally:
        server.stop()

    assert (len(first.messages), len(second.messages)) == (1, 1)
    two.refresh_from_db()
    assert (two.attempts, two.last_error) == (1, "")


def test_a_failure_is_logged_without_the_address_the_provider_quoted(alice, smtp_server, caplog):
    smtp_server.recorder.refuse_next.append(
        "550 5.1.1 <alice@example.com>: Recipient address rejected"
    )
    [row] = notify(user=alice, kind="welcome", context={})

    with caplog.at_level("INFO"):
        assert message_deliver(message_id=row.pk) == Status.FAILED

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("notifications")]
    assert f"Outbox row {row.pk} failed; the reason is on the row." in ours
    assert not [line for line in ours if "alice@example.com" in line]
    row.refresh_from_db()
    assert "alice@example.com" in row.last_error  # staff still see why, in the admin
