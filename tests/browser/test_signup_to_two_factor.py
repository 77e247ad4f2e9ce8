"""A person signs up, verifies, turns on two-factor, and signs in with a code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from django.core import mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def totp_now(secret: str, period: int = 30, digits: int = 6) -> str:
    """RFC 6238 computed here, independently of allauth.

    Near the end of a 30-second step the code could expire before the form is
    submitted, so wait for the next step then.
    """
    if time.time() % period > period - 4:
        time.sleep(period - time.time() % period + 0.1)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int(time.time()) // period)
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{code:0{digits}d}"


def test_sign_up_verify_enrol_totp_and_sign_in_with_a_code(page, live_server):
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Full name").fill("Dana Developer")
    page.get_by_label("Business name (optional)").fill("Dana Hosting GmbH")
    page.get_by_label("Phone").fill("+493012345678")
    page.get_by_label("Street address").fill("Unter den Linden 1")
    page.get_by_label("Address line 2 (optional)").fill("3. OG")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Postcode / ZIP").fill("10117")
    page.get_by_label("State / region (optional)").fill("Berlin")
    page.get_by_label("Country").select_option("DE")
    page.get_by_label("Password", exact=True).fill("a-long-enough-passphrase")
    page.get_by_label("Password (again)").fill("a-long-enough-passphrase")
    page.get_by_label("I accept the terms of service and the privacy policy").check()
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))

    # Read the verification email and open its link.
    assert {tuple(m.to) for m in mail.outbox} == {("dana@example.com",)}
    bodies = "\n".join(str(m.body) for m in mail.outbox)
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", bodies).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()

    # Sign in with the password.
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Password").fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert page.get_by_role("heading", name="Welcome, Dana").is_visible()

    # Enrol TOTP from the dashboard's security checklist.
    page.get_by_role("link", name="Turn on two-factor authentication").click()
    if "/accounts/reauthenticate/" in page.url:
        # allauth asks for the password again before a security change.
        page.get_by_label("Password").fill("a-long-enough-passphrase")
        page.get_by_role("button", name="Confirm").click()
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    page.get_by_label("Authenticator code").fill(totp_now(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/"))

    # Sign out, sign in again: the password alone is not enough.
    page.goto("/dashboard/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/logout/|/$"))
    if page.get_by_role("button", name="Sign Out").count():
        page.get_by_role("button", name="Sign Out").click()
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("dana@example.com")
    page.get_by_label("Password").fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label("Code", exact=True).fill(totp_now(secret))
    page.get_by_role("button", name="Sign In").click()

    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert page.get_by_text("Two-factor authentication is on").is_visible()
    assert page.get_by_text("Unter den Linden 1").is_visible()
