"""Text-message backends, in the manner of Django's email backends.

SMS_BACKEND names one of them: TwilioBackend sends through Twilio's API,
ConsoleBackend prints, LocmemBackend collects messages in `outbox` for tests.
Every backend returns our own SentSms and raises our own DeliveryError, so the
rest of the product never sees a vendor object. This is the only module that
imports twilio.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any, TextIO

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .errors import DeliveryError, NotConfiguredError


@dataclass(frozen=True)
class SentSms:
    provider_id: str
    status: str


class BaseSmsBackend:
    def send(self, *, to: str, body: str, status_callback: str = "") -> SentSms:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Writes each message to standard output (development)."""

    _lock = threading.Lock()
    _counter = 0

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str, status_callback: str = "") -> SentSms:
        with self._lock:
            ConsoleBackend._counter += 1
            number = ConsoleBackend._counter
        self.stream.write(f"SMS to {to}\n{body}\n{'-' * 40}\n")
        self.stream.flush()
        return SentSms(provider_id=f"console-{number}", status="sent")


outbox: list[dict[str, str]] = []


class LocmemBackend(BaseSmsBackend):
    """Keeps messages in notifications.sms.outbox (tests)."""

    def send(self, *, to: str, body: str, status_callback: str = "") -> SentSms:
        outbox.append({"to": to, "body": body, "status_callback": status_callback})
        return SentSms(provider_id=f"locmem-{len(outbox)}", status="sent")


# Twilio error codes after which another attempt cannot succeed.
PERMANENT_TWILIO_ERRORS = {
    21211: "Invalid 'To' phone number",
    21408: "Sending to this region is not enabled on the Twilio account",
    21610: "The recipient replied STOP and is unsubscribed",
    21612: "Twilio cannot route to this number",
    21614: "The number is not a mobile number",
}


def twilio_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


class TwilioBackend(BaseSmsBackend):
    """Sends through Twilio's Messages API with the official library.

    http_client lets tests hand the library a twilio.http.HttpClient that
    answers like Twilio without the network.
    """

    def __init__(self, http_client: HttpClient | None = None) -> None:
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
            if not getattr(settings, name)
        ]
        if missing:
            raise NotConfiguredError(f"Twilio is not configured: set {', '.join(missing)}.")
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
        )

    def send(self, *, to: str, body: str, status_callback: str = "") -> SentSms:
        options: dict[str, Any] = {"to": to, "from_": settings.TWILIO_FROM_NUMBER, "body": body}
        if status_callback:
            options["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**options)
        except TwilioRestException as error:
            reason = PERMANENT_TWILIO_ERRORS.get(error.code or 0)
            if reason:
                raise DeliveryError(
                    f"Twilio error {error.code}: {reason}", permanent=True
                ) from error
            raise DeliveryError(
                f"Twilio error {error.code or ''} (HTTP {error.status}): {error.msg}".replace(
                    "  ", " "
                )
            ) from error
        except (TwilioException, requests.RequestException) as error:
            raise DeliveryError(f"Twilio unreachable: {type(error).__name__}: {error}") from error
        return SentSms(provider_id=message.sid or "", status=message.status or "")


def twilio_signature_valid(*, url: str, params: dict[str, str], signature: str) -> bool:
    """Whether X-Twilio-Signature proves that Twilio sent this request.

    An unconfigured auth token never validates: an unsigned world must not be
    able to change a customer's consent.
    """
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    valid: bool = RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)
    return valid


def get_backend() -> BaseSmsBackend:
    backend: BaseSmsBackend = import_string(settings.SMS_BACKEND)()
    return backend


__all__ = [
    "BaseSmsBackend",
    "ConsoleBackend",
    "DeliveryError",
    "LocmemBackend",
    "NotConfiguredError",
    "PERMANENT_TWILIO_ERRORS",
    "SentSms",
    "TwilioBackend",
    "get_backend",
    "twilio_configured",
    "twilio_signature_valid",
    "outbox",
]
