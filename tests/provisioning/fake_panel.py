"""A small hosting panel on loopback that speaks the generic module's contract and checks
its signature on its own (HMAC-SHA256 over "<t>.<body>", as docs/provisioning.md says)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakePanel:
    secret: str
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    rejected: int = 0
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer next
    port: int = 0

    def signature_ok(self, header: str, body: bytes) -> bool:
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        timestamp = parts.get("t", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(expected.hexdigest(), parts.get("v1", ""))

    def handle(self, action: str, account: dict[str, Any]) -> dict[str, Any]:
        reference = account["reference"] if account else ""
        self.calls.append((action, reference))
        if action == "test":
            return {"version": "fake-1.0"}
        if action == "create":
            if reference in self.accounts:
                return {"username": self.accounts[reference]["username"], "password": ""}
            self.accounts[reference] = {**account, "state": "active"}
            return {
                "username": account["username"],
                "password": "S3cret-first-pass",
                "remote_id": reference,
            }
        if action in ("suspend", "unsuspend"):
            self.accounts[reference]["state"] = "suspended" if action == "suspend" else "active"
        elif action == "terminate":
            self.accounts.pop(reference, None)
        elif action == "change_package":
            self.accounts[reference]["package"] = account["package"]
        elif action == "sso":
            return {"url": f"https://panel.example.com/sso/{reference}?token=one-time"}
        elif action == "usage":
            return {"usage": [{"label": "Disk", "used": 120, "limit": 1000, "unit": "MB"}]}
        return {}


def serve(panel: FakePanel) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's API)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if panel.fail_next:
                self._answer(panel.fail_next.pop(0), {"error": "panel busy"})
                return
            if not panel.signature_ok(self.headers.get("X-OnePanel-Signature", ""), body):
                panel.rejected += 1
                self._answer(401, {"error": "bad signature"})
                return
            payload = json.loads(body)
            self._answer(200, panel.handle(payload["action"], payload["account"]))

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    panel.port = server.server_address[1]
    # serve_forever checks for shutdown() between polls: at its default 0.5 s every
    # test that used the panel waited ~0.4 s in teardown (issue 9).
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server
