"""cPanel & WHM through WHM API 1 with an API token.

Every call is `GET https://host:2087/json-api/<function>?api.version=1&...` with the
header `Authorization: whm <user>:<token>`. WHM answers HTTP 200 with
`{"metadata": {"result": 1|0, "reason": ..., "command": ...}, "data": {...}}`:
`result` 0 is a failure the panel explains in `reason` (permanent: the same request
fails the same way), except the failures that mean the work is already done.
"""

from __future__ import annotations

import re
import secrets
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

WHM_PORT = 2087
ALREADY_EXISTS = re.compile(r"already exists|is taken", re.IGNORECASE)
NO_SUCH_ACCOUNT = re.compile(r"does not exist|no such user|not a valid user", re.IGNORECASE)
ALREADY_SUSPENDED = re.compile(r"already suspended", re.IGNORECASE)
NOT_SUSPENDED = re.compile(r"is not suspended", re.IGNORECASE)


class CpanelModule(Module):
    name = "cpanel"
    label = "cPanel/WHM"
    has_sso = True
    has_usage = True

    def _call(self, function: str, **params: str) -> dict[str, Any]:
        """One WHM API 1 function; returns its `data` or raises ModuleError."""
        try:
            response = self.session.get(
                f"{self.base_url(WHM_PORT)}/json-api/{function}",
                params={"api.version": "1", **params},
                headers={
                    "Authorization": f"whm {self.connection.username}:{self.connection.secret}"
                },
                timeout=self.connection.timeout,
            )
        except requests.RequestException as exc:
            raise transport_error(exc) from exc
        if response.status_code in (401, 403):
            raise ModuleError("WHM refused the API token.", permanent=True)
        if response.status_code != 200:
            raise status_error(response.status_code, response.text)
        try:
            payload = response.json()
            metadata = payload["metadata"]
        except (ValueError, KeyError, TypeError):
            raise ModuleError("WHM's answer was not WHM API 1 JSON.", permanent=False) from None
        if int(metadata.get("result", 0)) != 1:
            raise ModuleError(str(metadata.get("reason") or "WHM refused."), permanent=True)
        return payload.get("data") or {}

    def test_connection(self) -> str:
        return f"WHM {self._call('version').get('version', '')}".strip()

    def create(self, account: AccountSpec) -> Created:
        password = secrets.token_urlsafe(18)
        try:
            self._call(
                "createacct",
                username=account.username,
                domain=account.domain,
                plan=account.package,
                password=password,
                contactemail=account.email,
            )
        except ModuleError as exc:
            # A retry after a create whose answer was lost: the account is ours already.
            if exc.permanent and ALREADY_EXISTS.search(exc.message) and self._exists(account):
                return Created(username=account.username, password="", remote_id=account.username)
            raise
        return Created(username=account.username, password=password, remote_id=account.username)

    def _exists(self, account: AccountSpec) -> bool:
        try:
            self._call("accountsummary", user=account.username)
        except ModuleError as exc:
            if exc.permanent and NO_SUCH_ACCOUNT.search(exc.message):
                return False
            raise
        return True

    def suspend(self, account: AccountSpec, reason: str) -> None:
        try:
            self._call("suspendacct", user=account.username, reason=reason)
        except ModuleError as exc:
            if not (exc.permanent and ALREADY_SUSPENDED.search(exc.message)):
                raise

    def unsuspend(self, account: AccountSpec) -> None:
        try:
            self._call("unsuspendacct", user=account.username)
        except ModuleError as exc:
            if not (exc.permanent and NOT_SUSPENDED.search(exc.message)):
                raise

    def terminate(self, account: AccountSpec) -> None:
        try:
            self._call("removeacct", user=account.username)
        except ModuleError as exc:
            if not (exc.permanent and NO_SUCH_ACCOUNT.search(exc.message)):
                raise

    def change_package(self, account: AccountSpec) -> None:
        self._call("changepackage", user=account.username, pkg=account.package)

    def sso_url(self, account: AccountSpec) -> str:
        data = self._call("create_user_session", user=account.username, service="cpaneld")
        url = str(data.get("url", ""))
        if not url.startswith("https://"):
            raise ModuleError("WHM gave no login link.", permanent=False)
        return url

    def usage(self, account: AccountSpec) -> list[Metric]:
        data = self._call("accountsummary", user=account.username)
        [summary] = data.get("acct") or [{}]
        return [
            Metric(
                label="Disk",
                used=_megabytes(summary.get("diskused")) or 0.0,
                limit=_megabytes(summary.get("disklimit")),
                unit="MB",
            )
        ]

    def redact_response(self, text: str, secrets: tuple[str, ...]) -> str:
        # create_user_session's url carries the session itself.
        return re.sub(r"(session=)[^&\"]+", r"\1[removed]", super().redact_response(text, secrets))


def _megabytes(value: object) -> float | None:
    """WHM writes sizes as "12M" or "unlimited"."""
    text = str(value or "").strip().upper().removesuffix("M")
    try:
        return float(text)
    except ValueError:
        return None
