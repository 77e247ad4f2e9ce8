"""core.queue: tasks queued by name, so an app's services never import its tasks module."""

from __future__ import annotations

import os

import pytest

from core.queue import enqueue, task_named
from notifications.tasks import send_emails
from tests.commands import run_python


def test_a_task_is_found_by_name_in_a_process_that_never_imported_its_module():
    # A fresh web-like process: Django set up, no tasks module imported by anyone yet.
    script = (
        "import sys, django; django.setup(); "
        "assert 'privacy.tasks' not in sys.modules; "
        "from core.queue import task_named; "
        "print(task_named('privacy.tasks.build_export').name)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = run_python("-c", script, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "privacy.tasks.build_export"


def test_an_unknown_task_name_is_refused():
    with pytest.raises(KeyError):
        task_named("notifications.tasks.no_such_task")


def test_enqueue_by_name_runs_the_task_in_eager_mode(db, monkeypatch):
    ran: list[list[int]] = []

    def run(message_ids: list[int]) -> dict[int, str]:
        ran.append(message_ids)
        return {}

    monkeypatch.setattr(send_emails, "run", run)

    assert enqueue("notifications.tasks.send_emails", [7, 8]) is True
    assert ran == [[7, 8]]
