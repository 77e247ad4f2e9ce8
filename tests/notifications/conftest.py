"""Notification tests run with an operator address and an empty text-message outbox.
The SMTP server and Celery worker fixtures are in tests/fixtures.py, the servers in
tests/servers.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifications import sms


@pytest.fixture(autouse=True)
def _operator_address(settings) -> None:
    """Email campaigns refuse to go out without the sender's postal address."""
    settings.OPERATOR_ADDRESS = "1 Test Street, London"


@pytest.fixture(autouse=True)
def _empty_sms_outbox() -> Iterator[None]:
    sms.outbox.clear()
    yield
    sms.outbox.clear()
