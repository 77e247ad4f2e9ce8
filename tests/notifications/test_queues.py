"""Work goes to the queue of its kind (email, sms, billing, default), so each kind can
have workers of its own: a worker of the email queue alone sends email and leaves the
rest waiting in their queues."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.db import connection

from billing import tasks as billing_tasks
from notifications.services import notify

ROOT = Path(__file__).resolve().parents[2]


def _route(name: str) -> str:
    from config.celery import app

    queue = app.amqp.router.route({}, name, (), {})["queue"]
    return str(queue.name)


def test_each_kind_of_work_is_routed_to_its_queue():
    assert _route("notifications.tasks.send_emails") == "email"
    assert _route("notifications.tasks.send_message") == "email"
    assert _route("notifications.tasks.send_texts") == "sms"
    assert _route("billing.tasks.generate_renewal_invoices") == "billing"
    assert _route("billing.tasks.charge_invoice") == "billing"
    assert _route("accounts.tasks.clear_expired_sessions") == "default"
    assert _route("privacy.tasks.prune_technical_data") == "default"


@pytest.mark.django_db(transaction=True)
def test_a_worker_of_the_email_queue_alone_sends_email_and_leaves_other_work(
    alice,
    bob,
    broker,  # noqa: F811
    smtp_server,
):
    db = connection.settings_dict
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--queues=email",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_server.port}",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        billing_tasks.generate_renewal_invoices.delay()
        notify(user=alice, kind="welcome", context={})

        [message] = smtp_server.recorder.wait_for(1)
        assert message["To"] == "alice@example.com"
        # A worker of every queue takes them in turn (Redis BRPOP over its queues, the
        # one it last took from moved to the end): it would take the billing task before
        # an email published now, so once that email is out the billing task was left.
        notify(user=bob, kind="welcome", context={})
        assert smtp_server.recorder.wait_for(2)[1]["To"] == "bob@example.com"
        queues = redis.Redis.from_url(broker.url)
        assert queues.llen("billing") == 1  # waits for a billing worker
        assert queues.llen("email") == 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
