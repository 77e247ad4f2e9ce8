"""The one interface every panel module implements, and the plain data it speaks.

A module is one file that alone talks to its panel. It takes a Connection and
AccountSpecs, returns these dataclasses, and raises ModuleError with a permanent
flag: permanent when asking again cannot help (a refused token, an unknown package,
a reply the panel documents as a failure), transient when it may (a timeout, a lost
connection, a 5xx). Every HTTP exchange is kept in `exchanges`, secrets removed,
for the module log.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from core.exceptions import ApplicationError

# Keys whose values never reach the log, wherever they appear.
SECRET_KEYS = re.compile(r"pass|secret|token|session|key|signature|authorization", re.IGNORECASE)
REDACTED = "[removed]"


class ModuleError(ApplicationError):
    """A hosting panel refused or failed a request; `message` is safe to show.

    An ApplicationError (as billing.gateway.PaymentError is), so views catch only
    ApplicationError; `permanent` says whether asking again can help, and tasks retry
    the transient ones only.
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Connection:
    hostname: str
    port: int | None
    username: str
    secret: str
    use_tls: bool = True
    verify_tls: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float = 30.0


@dataclass(frozen=True)
class AccountSpec:
    """What the panel needs to know about one account, as plain data."""

    reference: str
    username: str
    domain: str
    email: str
    package: str
    options: dict[str, Any] = field(default_factory=dict)
    remote_id: str = ""


@dataclass(frozen=True)
class Created:
    username: str
    password: str  # "" when the panel already had the account (nothing new to show)
    remote_id: str = ""


@dataclass(frozen=True)
class Metric:
    label: str
    used: float
    limit: float | None  # None: unlimited
    unit: str


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    request: dict[str, Any]
    status_code: int | None
    response: str
    duration_ms: int


def redact(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """`value` with secret-looking keys' values and every known secret string removed."""
    if isinstance(value, dict):
        return {
            key: REDACTED if SECRET_KEYS.search(str(key)) else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            if secret:
                value = value.replace(secret, REDACTED)
        return value
    return value


class Module(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    # Whether the panel offers a sign-on link and reports usage.
    has_sso: ClassVar[bool] = False
    has_usage: ClassVar[bool] = False

    def __init__(self, connection: Connection, session: requests.Session | None = None) -> None:
        self.connection = connection
        self.exchanges: list[Exchange] = []
        self.session = session or requests.Session()
        self.session.hooks["response"].append(self._record)
        self.session.verify = connection.verify_tls

    # --- what every module does -------------------------------------------

    @abstractmethod
    def test_connection(self) -> str:
        """A short description of the panel (its version) when the credentials work."""

    @abstractmethod
    def create(self, account: AccountSpec) -> Created:
        """Creates the account; an account the panel already has is not an error."""

    @abstractmethod
    def suspend(self, account: AccountSpec, reason: str) -> None: ...

    @abstractmethod
    def unsuspend(self, account: AccountSpec) -> None: ...

    @abstractmethod
    def terminate(self, account: AccountSpec) -> None:
        """Removes the account; one already gone is not an error."""

    @abstractmethod
    def change_package(self, account: AccountSpec) -> None:
        """Moves the account to `account.package` / `account.options`."""

    def sso_url(self, account: AccountSpec) -> str:
        """A one-time login link to the panel, "" when the panel has none."""
        return ""

    def usage(self, account: AccountSpec) -> list[Metric]:
        return []

    # --- the log -----------------------------------------------------------

    def secrets(self) -> tuple[str, ...]:
        return (self.connection.secret,)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        parts = urlsplit(request.url or "")
        body: Any = request.body or ""
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if body and (request.headers.get("Content-Type") or "").startswith("application/json"):
            try:
                body = json.loads(body)
            except ValueError:
                pass
        elif body:
            body = dict(parse_qsl(body, keep_blank_values=True))
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        secrets = self.secrets()
        self.exchanges.append(
            Exchange(
                method=request.method or "",
                url=redact(urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), secrets),
                request=redact({"query": query, "body": body}, secrets),
                status_code=response.status_code,
                response=self.redact_response(response.text, secrets)[:20_000],
                duration_ms=int(response.elapsed.total_seconds() * 1000),
            )
        )

    def redact_response(self, text: str, secrets: tuple[str, ...]) -> str:
        try:
            return json.dumps(redact(json.loads(text), secrets))
        except ValueError:
            return str(redact(text, secrets))

    # --- helpers for modules -------------------------------------------------

    def base_url(self, default_port: int) -> str:
        scheme = "https" if self.connection.use_tls else "http"
        return f"{scheme}://{self.connection.hostname}:{self.connection.port or default_port}"


def transport_error(exc: requests.RequestException) -> ModuleError:
    """A network failure: the panel may answer next time."""
    if isinstance(exc, requests.Timeout):
        return ModuleError("The panel did not answer in time.", permanent=False)
    if isinstance(exc, requests.ConnectionError):
        return ModuleError("Could not connect to the panel.", permanent=False)
    return ModuleError(f"Request to the panel failed: {type(exc).__name__}.", permanent=False)


def status_error(status_code: int, detail: str) -> ModuleError:
    """An HTTP error status: 5xx, 408 and 429 may pass, every other 4xx will not."""
    transient = status_code >= 500 or status_code in (408, 429)
    return ModuleError(f"The panel answered {status_code}: {detail[:200]}", permanent=not transient)
