"""The sign-in safety summary of the dashboard and the account pages, in one query."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.urls import reverse

from accounts.selectors import user_security_summary


def test_it_says_nothing_is_done_for_a_new_customer(alice, bob, django_assert_num_queries):
    EmailAddress.objects.filter(user=alice).update(verified=False)
    TOTP.activate(bob, generate_totp_secret())
    UserSession.objects.create(user=bob, ip="198.51.100.2", user_agent="x", session_key="b")

    with django_assert_num_queries(1):
        summary = user_security_summary(user=alice)

    assert summary == {
        "email_verified": False,
        "pending_email": "",
        "has_totp": False,
        "session_count": 0,
    }


def test_it_reads_the_primary_address_the_first_pending_one_totp_and_sessions(alice):
    EmailAddress.objects.create(user=alice, email="zed@example.com")
    EmailAddress.objects.create(user=alice, email="new@example.com")
    EmailAddress.objects.create(user=alice, email="old@example.com", verified=True)
    TOTP.activate(alice, generate_totp_secret())
    for key in ("s1", "s2", "s3"):
        UserSession.objects.create(user=alice, ip="198.51.100.1", user_agent="x", session_key=key)

    assert user_security_summary(user=alice) == {
        "email_verified": True,
        "pending_email": "new@example.com",
        "has_totp": True,
        "session_count": 3,
    }


def test_an_unverified_primary_address_is_not_verified(alice):
    EmailAddress.objects.filter(user=alice).update(verified=False)
    EmailAddress.objects.create(user=alice, email="other@example.com", verified=True)

    assert user_security_summary(user=alice)["email_verified"] is False


def test_the_statement_names_allauths_tables():
    # The statement is written out (accounts.selectors): a renamed table fails here first.
    from accounts.selectors import SECURITY_SUMMARY_SQL

    for model in (EmailAddress, Authenticator, UserSession):
        assert f"FROM {model._meta.db_table}\n" in SECURITY_SUMMARY_SQL or (
            f"FROM {model._meta.db_table} " in SECURITY_SUMMARY_SQL
        )


def test_the_profile_page_shows_it(alice_client, alice):
    EmailAddress.objects.create(user=alice, email="<script>@example.com")

    text = alice_client.get(reverse("accounts:profile")).text

    assert '<span class="badge badge--ok">verified</span>' in text
    assert "<strong>&lt;script&gt;@example.com</strong>" in text
