"""What the attack tests share besides fixtures: the secrets the served app runs with,
the running app (App) and an HTTP client that speaks as the TLS proxy would (Client).
The fixtures that start it are in tests/attack/conftest.py."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field

import requests

from tests.servers import RedisServer, SmtpRecorder

STRIPE_WEBHOOK_SECRET = "whsec_attack"


TWILIO_AUTH_TOKEN = "attack-twilio-token"


CLIENT_IP = "198.51.100.7"


@dataclass
class App:
    """The running app: its URL, environment and everything gunicorn wrote."""

    url: str
    env: dict[str, str]
    redis: RedisServer
    smtp: SmtpRecorder
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "".join(self.output)

    def log_once_written(self, start: int, *texts: str, timeout: float = 30) -> str:
        """What the app wrote since output line `start`, once every one of `texts` is in
        it: gunicorn writes an access line after its response, the reader thread passes
        lines on a moment later."""
        deadline = time.monotonic() + timeout
        while True:
            written = "".join(self.output[start:])
            if all(text in written for text in texts):
                return written
            if time.monotonic() > deadline:
                raise AssertionError(f"Not logged within {timeout} s: {texts}\n{written}")
            time.sleep(0.02)

    def client(self, ip: str = CLIENT_IP) -> Client:
        return Client(self.url, ip=ip)


class Client:
    """requests with the proxy's headers, the CSRF dance and our cookie policy."""

    def __init__(self, base: str, ip: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers.update(
            {
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": ip,
                "Origin": base.replace("http://", "https://"),
                "Referer": base.replace("http://", "https://") + "/",
            }
        )

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        # Production cookies are Secure (__Host-), which requests sends over https only:
        # the TLS proxy is stood in for by a header, so send them as a browser would.
        headers: dict[str, str] = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        jar = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.session.cookies)
        if jar:
            headers["Cookie"] = jar
        response: requests.Response = self.session.request(
            method,
            self.base + path,
            headers=headers,
            **kwargs,  # type: ignore[arg-type]
        )
        return response

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def csrf_token(self, path: str) -> str:
        page = self.get(path, allow_redirects=True)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, f"No CSRF token on {path} ({page.status_code})"
        return found.group(1)

    def submit(
        self, path: str, data: dict[str, str], form_page: str | None = None
    ) -> requests.Response:
        """GETs the form page for its CSRF token, then POSTs `data` to `path`."""
        token = self.csrf_token(form_page or path)
        return self.request("POST", path, data={"csrfmiddlewaretoken": token, **data})
