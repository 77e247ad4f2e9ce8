"""The add-card page and Stripe's webhooks save the same new card at about the same time."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from billing import stripe_payloads
from billing.models import BillingAccount, PaymentMethod
from billing.services.cards import card_save

pytestmark = pytest.mark.django_db(transaction=True)


def another_save_waits_for_our_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT FROM pg_stat_activity"
            " WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid)))"
        )
        return bool(cursor.fetchone()[0])


def test_two_saves_of_one_new_card_at_once_keep_one_card(alice, monkeypatch):
    BillingAccount.objects.create(user=alice, stripe_customer_id="cus_Race")
    card = stripe_payloads.Card(
        payment_method_id="pm_Race",
        customer_id="cus_Race",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2034,
        country="US",
        fingerprint="fpRace",
        three_d_secure_supported=True,
    )
    # Both saves reach the insert together unless something makes one wait for the other:
    # the first there waits until the second arrives too, or until the second is seen
    # waiting for a lock the first holds (then it goes on alone).
    at_insert: list[str] = []
    arrivals = threading.Condition()
    create = PaymentMethod.objects.create

    def create_when_both_checked(**values):
        with arrivals:
            at_insert.append(threading.current_thread().name)
            arrivals.notify_all()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not another_save_waits_for_our_lock():
            with arrivals:
                if arrivals.wait_for(lambda: len(at_insert) == 2, timeout=0.01):
                    break
        return create(**values)

    monkeypatch.setattr(PaymentMethod.objects, "create", create_when_both_checked)
    errors: list[Exception] = []

    def save() -> None:
        try:
            card_save(user=alice, card=card)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    saved = PaymentMethod.objects.get(user=alice)
    assert (saved.stripe_payment_method_id, saved.is_default) == ("pm_Race", True)
