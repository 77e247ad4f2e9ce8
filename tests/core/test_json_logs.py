"""LOG_FORMAT=json: one JSON object a line, paths redacted as in plain logs."""

from __future__ import annotations

import json
import os

from tests.commands import run_manage


def test_log_lines_are_json_objects_when_asked(db):
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_FORMAT": "json"}
    code = (
        "import logging; logging.getLogger('onepanel').warning("
        "'Refused /unsubscribe/abc.def/', extra={'request': '<GET /unsubscribe/abc.def/>'})"
    )

    result = run_manage("shell", "--verbosity=0", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    record = json.loads(line)
    assert record["level"] == "WARNING"
    assert record["logger"] == "onepanel"
    assert record["message"] == "Refused /unsubscribe/<token>/"
    # Extras (Django's `request`, whose repr holds the path) are not written.
    assert set(record) == {"time", "level", "logger", "message"}


def test_an_unknown_log_format_is_refused(db):
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_FORMAT": "xml"}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json" in result.stderr
