from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from accounts.models import User


def test_it_creates_a_staff_user_and_a_customer_who_can_sign_in(db, client, capsys):
    call_command("seed_demo")

    out = capsys.readouterr().out
    assert "customer@example.com" in out
    assert "demo-customer-password" in out
    customer = User.objects.get(email="customer@example.com")
    assert customer.mailing_address_lines
    assert EmailAddress.objects.get(email="customer@example.com").verified
    assert User.objects.get(email="staff@example.com").is_staff
    assert client.login(email="customer@example.com", password="demo-customer-password")


def test_running_it_twice_creates_nothing_new(db):
    call_command("seed_demo")
    call_command("seed_demo")

    assert User.objects.count() == 2
    assert EmailAddress.objects.count() == 2


def test_it_refuses_to_run_where_demo_data_is_forbidden(db, settings):
    settings.DEMO_DATA_ALLOWED = False

    with pytest.raises(CommandError, match="embedded default only"):
        call_command("seed_demo")

    assert not User.objects.exists()
