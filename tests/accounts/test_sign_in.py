from __future__ import annotations

import re

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.urls import reverse

from tests.factories import TEST_PASSWORD


def _login(client, email: str, password: str = TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_a_customer_signs_in_with_email_and_password(client, alice):
    response = _login(client, "ALICE@example.com")

    assert response.status_code == 302
    assert client.get(reverse("core:dashboard")).status_code == 200


def test_a_wrong_password_says_so_without_revealing_whether_the_email_exists(client, alice):
    wrong_password = _login(client, "alice@example.com", "not-the-password")
    unknown_email = _login(client, "nobody@example.com", "not-the-password")

    assert wrong_password.status_code == unknown_email.status_code == 200
    assert "not correct" in wrong_password.text
    assert "not correct" in unknown_email.text


def test_repeated_failures_are_rate_limited(client, alice):
    for attempt in range(5):
        failed = _login(client, "alice@example.com", "not-the-password")
        # Up to the limit, a wrong password is only that.
        assert "not correct" in failed.text, attempt
        assert "Too many failed login attempts" not in failed.text, attempt

    response = _login(client, "alice@example.com")

    # The sixth try is refused even with the right password: the form says why.
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.text
    assert client.get(reverse("core:dashboard")).status_code == 302


def test_password_reset_by_email_link(client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "alice@example.com"})

    assert mail.outbox[-1].to == ["alice@example.com"]
    link = re.search(
        r"http://testserver(/accounts/password/reset/key/\S+/)", str(mail.outbox[-1].body)
    )
    form_page = client.get(link.group(1), follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase")


def test_with_totp_on_the_password_alone_does_not_sign_in(client, alice):
    TOTP.activate(alice, generate_totp_secret())

    response = _login(client, "alice@example.com")

    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("core:dashboard")).status_code == 302


def test_a_recovery_code_completes_sign_in_once(client, alice):
    TOTP.activate(alice, generate_totp_secret())
    codes = RecoveryCodes.activate(alice).get_unused_codes()
    assert len(codes) == 10

    _login(client, "alice@example.com")
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})

    assert response.status_code == 302
    assert client.get(reverse("core:dashboard")).status_code == 200
    recovery = Authenticator.objects.get(user=alice, type=Authenticator.Type.RECOVERY_CODES)
    assert codes[0] not in recovery.wrap().get_unused_codes()


def test_a_sign_in_records_its_time_without_reading_the_customer_again(client, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = _login(client, "alice@example.com")

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.last_login is not None
    # The password check's read, and no second one before the last_login UPDATE.
    reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "accounts_user"."id"')]
    assert len(reads) == 1, reads
