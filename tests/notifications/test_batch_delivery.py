"""A batch of outbox rows delivered by one task: one statement a message (the claim of
a row together with the "sent" mark of the one before), and still at most once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from notifications import emails
from notifications.delivery import messages_deliver
from notifications.models import Category, ConsentChannel, OutboxMessage, Status
from notifications.services import notify, preferences_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OFFER = {"campaign": {"subject": "Half-price domains", "body": "All .com domains half price."}}


def welcome(user, count: int) -> list[int]:
    return [notify(user=user, kind="welcome", context={})[0].pk for _ in range(count)]


def offer_to_consenting_customers(count: int) -> list[int]:
    ids = []
    for _ in range(count):
        customer = UserFactory()
        preferences_update(
            user=customer,
            choices={"marketing_email": True},
            channel=ConsentChannel.PREFERENCES_PAGE,
            ip_address=None,
        )
        ids.append(notify(user=customer, kind="campaign", context=OFFER, category="marketing")[0])
    return [row.pk for row in ids]


def while_sending(first_id: int, action: Callable[[], Any], monkeypatch) -> None:
    """Runs `action` once, as the row `first_id` is handed to the mailer."""
    send = emails.send_email

    def sending(**fields: Any) -> str:
        if fields["message_id"] == first_id:
            action()
        return send(**fields)

    monkeypatch.setattr(emails, "send_email", sending)


@pytest.mark.parametrize("count", [1, 5])
def test_each_message_costs_one_statement(alice, count, django_assert_num_queries):
    ids = welcome(alice, count)

    # The batch read, a claim per message (each with the previous one's "sent"
    # mark), and the last one's mark.
    with django_assert_num_queries(1 + count + 1):
        statuses = messages_deliver(message_ids=ids)

    assert statuses == dict.fromkeys(ids, Status.SENT)
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    assert OutboxMessage.objects.filter(attempts=1, sent_at__isnull=False).count() == count
    assert len(mail.outbox) == count


@pytest.mark.parametrize("count", [1, 4])
def test_consent_is_read_once_for_the_batch(count, django_assert_num_queries):
    ids = offer_to_consenting_customers(count)

    # The batch read, the customers and their answers, the claims, the last mark.
    with django_assert_num_queries(1 + 2 + count + 1):
        statuses = messages_deliver(message_ids=ids)

    assert statuses == dict.fromkeys(ids, Status.SENT)


def test_a_consent_withdrawn_before_the_batch_cancels_only_that_customers_row():
    first, second = offer_to_consenting_customers(2)
    withdrawn = OutboxMessage.objects.get(pk=second).user
    assert withdrawn is not None
    preferences_update(
        user=withdrawn,
        choices={"marketing_email": False},
        channel=ConsentChannel.UNSUBSCRIBE_LINK,
        ip_address=None,
    )

    assert messages_deliver(message_ids=[first, second]) == {
        first: Status.SENT,
        second: Status.CANCELLED,
    }
    assert [m.to for m in mail.outbox] == [[OutboxMessage.objects.get(pk=first).recipient]]
    assert OutboxMessage.objects.get(pk=second).category == Category.MARKETING


def test_a_row_another_worker_claimed_meanwhile_is_left_to_it(alice, monkeypatch):
    first, taken, last = welcome(alice, 3)
    # After this batch was read, another worker claims the second row.
    while_sending(
        first,
        lambda: OutboxMessage.objects.filter(pk=taken).update(status=Status.SENDING),
        monkeypatch,
    )

    assert messages_deliver(message_ids=[first, taken, last]) == {
        first: Status.SENT,
        last: Status.SENT,
    }
    rows = OutboxMessage.objects.in_bulk()
    # The failed claim still carried the first row's "sent" mark.
    assert (rows[first].status, rows[first].provider_id != "") == (Status.SENT, True)
    assert (rows[taken].status, rows[taken].attempts) == (Status.SENDING, 0)
    assert len(mail.outbox) == 2


def test_a_sent_row_erased_meanwhile_does_not_spoil_the_next_claim(alice, bob, monkeypatch):
    [first] = welcome(bob, 1)
    [second] = welcome(alice, 1)
    # Bob's erasure deletes his rows while his email is on its way.
    while_sending(first, lambda: OutboxMessage.objects.filter(user=bob).delete(), monkeypatch)

    assert messages_deliver(message_ids=[first, second]) == {
        first: Status.SENT,
        second: Status.SENT,
    }
    assert OutboxMessage.objects.get(pk=second).status == Status.SENT
    assert len(mail.outbox) == 2


def test_a_row_in_a_second_batch_is_not_sent_again(alice):
    ids = welcome(alice, 3)

    messages_deliver(message_ids=ids)

    assert messages_deliver(message_ids=ids) == {}
    assert len(mail.outbox) == 3
