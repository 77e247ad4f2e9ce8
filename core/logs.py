"""Log plumbing shared by Django and gunicorn: redaction and the JSON format."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger import json

from .redact import redact_paths_in


class RedactPathsFilter(logging.Filter):
    """Rewrites every record's message with its paths redacted (core.redact).

    Attached to our handlers, so it covers Django's own loggers (django.request's
    "Not Found: /unsubscribe/<token>/") as well as ours.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record is logged as the logging module would
        redacted = redact_paths_in(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class JsonFormatter(json.JsonFormatter):
    """One JSON object a line with only the fields of the format (time, level, logger,
    message; a traceback when there is one).

    python-json-logger also writes a record's extras, and Django's own records carry
    `request`, whose repr holds the full path: with a reset key or an unsubscribe token.
    """

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        kept = {self._get_rename(name) for name in self._required_fields}
        for key in set(log_data) - kept:
            del log_data[key]
