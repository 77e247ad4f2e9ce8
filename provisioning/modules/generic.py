"""Any other panel: the hosting company's own HTTPS endpoint, called with signed JSON.

Every call is `POST <https://host:port/path>` with a JSON body
`{"action": ..., "account": {...}, "sent_at": <unix time>}` and the header
`X-OnePanel-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
server's secret>`. The endpoint checks the signature (and that t is recent), does
the work and answers 200 with JSON: for create `{"username", "password",
"remote_id"}`, for sso `{"url"}`, for usage `{"usage": [{"label", "used", "limit",
"unit"}]}`, for test `{"version"}`, otherwise `{}`. A create for a reference it
already has answers 200 with that account (password may be ""), a terminate of one
it does not have answers 200: that is what makes retries safe. A 4xx (with
`{"error": "..."}`) is permanent; a 5xx, 408, 429 or a timeout is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict
from typing import Any

import requests

from .base import (
    AccountSpec,
    Created,
    Metric,
    Module,
    ModuleError,
    status_error,
    transport_error,
)

SIGNATURE_HEADER = "X-OnePanel-Signature"


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class GenericModule(Module):
    name = "generic"
    label = "Generic signed HTTPS"
    has_sso = True
    has_usage = True

    def _post(self, action: str, account: AccountSpec | None = None) -> dict[str, Any]:
        if not self.connection.secret:
            raise ModuleError("The server has no signing secret.", permanent=True)
        timestamp = int(time.time())
        body = json.dumps(
            {
                "action": action,
                "account": asdict(account) if account else None,
                "sent_at": timestamp,
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        path = "/" + str(self.connection.options.get("path", "/onepanel")).lstrip("/")
        try:
            response = self.session.post(
                self.base_url(443 if self.connection.use_tls else 80) + path,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(
                        secret=self.connection.secret, timestamp=timestamp, body=body
                    ),
                },
                timeout=self.connection.timeout,
            )
        except requests.RequestException as exc:
            raise transport_error(exc) from exc
        if response.status_code != 200:
            try:
                detail = str(response.json().get("error", ""))
            except (ValueError, AttributeError):
                detail = response.text
            raise status_error(response.status_code, detail)
        try:
            payload = response.json()
        except ValueError:
            raise ModuleError("The endpoint's answer was not JSON.", permanent=False) from None
        if not isinstance(payload, dict):
            raise ModuleError("The endpoint's answer was not a JSON object.", permanent=False)
        return payload

    def test_connection(self) -> str:
        return f"Endpoint {self._post('test').get('version', '')}".strip()

    def create(self, account: AccountSpec) -> Created:
        data = self._post("create", account)
        return Created(
            username=str(data.get("username") or account.username),
            password=str(data.get("password") or ""),
            remote_id=str(data.get("remote_id") or ""),
        )

    def suspend(self, account: AccountSpec, reason: str) -> None:
        self._post("suspend", account)

    def unsuspend(self, account: AccountSpec) -> None:
        self._post("unsuspend", account)

    def terminate(self, account: AccountSpec) -> None:
        self._post("terminate", account)

    def change_package(self, account: AccountSpec) -> None:
        self._post("change_package", account)

    def sso_url(self, account: AccountSpec) -> str:
        url = str(self._post("sso", account).get("url", ""))
        return url if url.startswith(("https://", "http://")) else ""

    def usage(self, account: AccountSpec) -> list[Metric]:
        metrics = self._post("usage", account).get("usage") or []
        return [
            Metric(
                label=str(item["label"]),
                used=float(item["used"]),
                limit=None if item.get("limit") is None else float(item["limit"]),
                unit=str(item.get("unit", "")),
            )
            for item in metrics
            if isinstance(item, dict) and "label" in item and "used" in item
        ]
