"""Stripe for tests: localstripe on a free loopback port, and an injected HTTP client.

localstripe (GPL, a dev dependency) only ever runs here, in its own process; the
product talks to it through the official library like to Stripe. Its store is
kept in memory: the stock server pickles it to /tmp after every write, which
parallel test runs on one machine would share.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from billing import gateway

RUNNER = """
import sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""

WEBHOOK_SECRET = "whsec_test_secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "server.log").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", RUNNER, str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1).close()  # noqa: S310
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"localstripe did not start; see {log.name}")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def localstripe(localstripe_url, settings) -> Iterator[str]:
    """A clean localstripe, with the settings pointing the product at it."""
    request = urllib.request.Request(  # noqa: S310 - http to our loopback server
        f"{localstripe_url}/_config/data", method="DELETE"
    )
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310
    settings.STRIPE_SECRET_KEY = "sk_test_localstripe"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_JS_URL = f"{localstripe_url}/js.stripe.com/v3/"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    csp = {key: list(value) for key, value in settings.SECURE_CSP.items()}
    for directive in ("script-src", "connect-src", "frame-src"):
        csp[directive] = [*csp.get(directive, []), localstripe_url]
    settings.SECURE_CSP = csp
    yield localstripe_url
    # Webhook endpoints outlive the data flush: point ours at the discard port so late
    # deliveries do not reach the next test's live server.
    localstripe_register_webhook(localstripe_url, "http://127.0.0.1:9/")


def localstripe_register_webhook(localstripe_url: str, target: str) -> None:
    data = f"url={target}&secret={WEBHOOK_SECRET}".encode()
    request = urllib.request.Request(  # noqa: S310 - http to our loopback server
        f"{localstripe_url}/_config/webhooks/onepanel", data=data, method="POST"
    )
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310


def signed(payload: dict[str, Any], secret: str = WEBHOOK_SECRET, at: int | None = None):
    """A body and Stripe-Signature header made exactly as Stripe makes them."""
    body = json.dumps(payload)
    timestamp = int(time.time()) if at is None else at
    header = stripe.WebhookSignature.generate_signature_header(
        payload=body, secret=secret, timestamp=timestamp
    )
    return body, header


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers the library's requests from `routes`: {(METHOD, path): handler(params)},
    where a handler returns (status, body dict). Records every request."""

    name = "fake"

    def __init__(
        self, routes: dict[tuple[str, str], Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]]
    ):
        super().__init__()
        self.routes = routes
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        raw = post_data.decode() if isinstance(post_data, bytes) else (post_data or parts.query)
        params = {key: values[-1] for key, values in parse_qs(raw).items()}
        self.requests.append((method.upper(), parts.path, params, dict(headers or {})))
        handler = self.routes.get((method.upper(), parts.path))
        if handler is None:
            status, body = (
                404,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "message": f"No such route {parts.path}",
                    }
                },
            )
        else:
            status, body = handler(params)
        return json.dumps(body), status, {"request-id": "req_fake"}

    def _sleep_time_seconds(self, *args, **kwargs) -> float:
        return 0  # retries without waiting

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass


@pytest.fixture
def fake_stripe(settings) -> Iterator[Callable[[dict[Any, Any]], FakeStripeHTTP]]:
    """Install a FakeStripeHTTP with the given routes into the gateway."""
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET

    def install(routes: dict[Any, Any]) -> FakeStripeHTTP:
        client = FakeStripeHTTP(routes)
        gateway.use_http_client(client)
        return client

    yield install
    gateway.use_http_client(None)
