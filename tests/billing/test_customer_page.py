"""The customer's page in the admin: everything of theirs two clicks away, and the
account actions."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.core import mail
from django.test import Client
from django.urls import reverse

from billing.services.orders import CartLine, order_place
from privacy.models import CookieConsentRecord
from tests.factories import PaymentMethodFactory


@pytest.fixture
def staff(client, charlie):
    client.force_login(charlie)
    return client


def _page(staff, user, **params):
    return staff.get(reverse("admin:accounts_user_change", args=[user.pk]), params)


def _orders(user, plan, count):
    for _ in range(count):
        order_place(
            user=user, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
        )


def test_the_customer_page_lists_services_orders_invoices_payments_cards_and_consents(
    staff, alice, alice_invoice
):
    PaymentMethodFactory(user=alice, brand="visa", last4="4242")
    CookieConsentRecord.objects.create(
        visitor_id="v1",
        user=alice,
        action="custom",
        functional=True,
        performance=False,
        advertising=False,
        declaration_version="1",
    )

    text = _page(staff, alice).text

    for title in (
        "Services (1)",
        "Orders (1)",
        "Invoices (1)",
        "Payments (0)",
        "Cards (metadata) (1)",
        "Cookie consents (1)",
        "Sessions (0)",
    ):
        assert title in text
    assert reverse("admin:billing_invoice_change", args=[alice_invoice.pk]) in text
    assert reverse("admin:billing_order_change", args=[alice_invoice.order_id]) in text
    assert "€6.00" in text
    assert "visa •••• 4242" in text
    assert "functional" in text


def test_each_list_is_paginated(staff, alice, plan, uk_vat):
    _orders(alice, plan, 12)

    first = _page(staff, alice).text
    second = _page(staff, alice, **{"invoices-page": "2"}).text

    assert "Invoices (12)" in first
    assert "Page 1 of 2" in first
    assert "invoices-page=2" in first
    assert "Page 2 of 2" in second


def test_the_customer_page_runs_the_same_queries_however_much_the_customer_has(
    staff, alice, plan, uk_vat, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _orders(alice, plan, 2)
    PaymentMethodFactory(user=alice)
    _page(staff, alice)
    with CaptureQueriesContext(connection) as few:
        _page(staff, alice)
    _orders(alice, plan, 25)
    for _ in range(5):
        PaymentMethodFactory(user=alice, is_default=False)

    with django_assert_num_queries(len(few.captured_queries)):
        _page(staff, alice)


def _act(staff, user, action):
    return staff.post(
        reverse("admin:accounts_user_customer_action", args=[user.pk, action]), follow=True
    )


def test_staff_send_a_password_reset(staff, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(staff, alice, "password-reset")

    assert "Password reset email sent to alice@example.com." in response.text
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_staff_resend_the_verification_email(staff, alice, django_capture_on_commit_callbacks):
    EmailAddress.objects.filter(user=alice).update(verified=False)
    if not EmailAddress.objects.filter(user=alice).exists():
        EmailAddress.objects.create(user=alice, email=alice.email, primary=True, verified=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = _act(staff, alice, "resend-verification")

    assert "Verification email sent again" in response.text
    assert "/accounts/confirm-email/" in mail.outbox[-1].body


def test_closing_sessions_signs_the_customer_out(charlie, alice):
    alice_client, staff = Client(), Client()
    alice_client.force_login(alice)
    staff.force_login(charlie)
    alice_client.get(reverse("core:dashboard"))
    assert UserSession.objects.filter(user=alice).exists()

    response = _act(staff, alice, "end-sessions")

    assert "session(s) of alice@example.com closed" in response.text
    assert not UserSession.objects.filter(user=alice).exists()
    assert alice_client.get(reverse("core:dashboard")).status_code == 302


def test_suspending_refuses_sign_in_and_ends_sessions(charlie, alice):
    alice_client, staff = Client(), Client()
    alice_client.force_login(alice)
    staff.force_login(charlie)
    alice_client.get(reverse("core:dashboard"))

    response = _act(staff, alice, "suspend")

    alice.refresh_from_db()
    assert "is suspended" in response.text
    assert alice.is_active is False
    assert alice_client.get(reverse("core:dashboard")).status_code == 302


def test_an_action_must_be_posted(staff, alice):
    response = staff.get(reverse("admin:accounts_user_customer_action", args=[alice.pk, "suspend"]))

    assert response.status_code == 405


def test_customers_cannot_act_on_accounts(alice_client, bob):
    response = alice_client.post(
        reverse("admin:accounts_user_customer_action", args=[bob.pk, "suspend"])
    )

    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.is_active is True
