"""`make run` serves the embedded default: SQLite, no Redis, tasks in-process.

The suite runs on PostgreSQL, so this walks the main pages once on SQLite to
catch anything PostgreSQL-only before a newcomer's first run does.
"""

from __future__ import annotations

import os
import re

from tests.commands import run_manage

WALK = """
import re
from django.test import Client
c = Client()
for path in ["/", "/plans/", "/privacy/", "/terms/", "/cookies/", "/accounts/login/",
             "/accounts/signup/"]:
    assert c.get(path).status_code == 200, path
r = c.post("/accounts/login/", {"login": "customer@example.com",
                                "password": "demo-customer-password"})
assert r.status_code == 302 and r["Location"] == "/dashboard/", r.status_code
for path in ["/dashboard/", "/account/", "/account/profile/", "/accounts/sessions/",
             "/account/notifications/", "/account/privacy/",
             "/account/security/", "/billing/services/", "/billing/invoices/",
             "/billing/cards/", "/billing/cart/", "/billing/details/"]:
    r = c.get(path, follow=True)
    assert r.status_code == 200, (path, r.status_code)
signup = {"password1": "a-long-enough-passphrase", "password2": "a-long-enough-passphrase",
          "full_name": "Nia Newcomer", "phone": "+353851234567", "address_line1": "1 Main St",
          "city": "Dublin", "postcode": "D01", "country": "IE", "accept_terms": "on"}
for email in ["customer@example.com", "nia@example.com"]:
    r = Client().post("/accounts/signup/", signup | {"email": email})
    assert r.status_code == 302, (email, re.findall(r"error.{0,200}", r.text))
print("walked")
"""


def test_the_embedded_default_serves_the_main_pages_on_sqlite(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "testserver",
    }
    for command in (("migrate", "--noinput"), ("seed_demo",), ("seed_catalogue",)):
        result = run_manage(*command, env=env)
        assert result.returncode == 0, result.stderr[-3000:]

    result = run_manage("shell", "--verbosity=0", "-c", WALK, env=env)

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("walked")
    # The console mailer printed both sign-up emails decoded: the owner of the address
    # that already has an account is told so, the newcomer gets a whole, clickable link.
    emails = result.stdout.split("-" * 79)
    [already] = [e for e in emails if "To: customer@example.com" in e]
    assert "already" in already
    [confirm] = [e for e in emails if "To: nia@example.com" in e and "Confirm" in e]
    assert re.search(r" http://\S+/accounts/confirm-email/\S+/$", confirm, re.MULTILINE)
