"""The invoice page reads the invoice with its last payment's outcome, a waiting hold's
case and whether it has credit notes in one query, its lines in a second (issue 15)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import CreditNote, Payment, PaymentStatus


def _payment(invoice, attempt: int, status: str, failure: str = "") -> Payment:
    return Payment.objects.create(
        invoice=invoice,
        attempt=attempt,
        amount=invoice.total,
        currency=invoice.currency,
        status=status,
        failure_message=failure,
    )


def _page(client, invoice) -> tuple[str, int]:
    url = reverse("billing:invoice_detail", args=[invoice.pk])
    client.get(url)  # the first view after a change reads the customer afresh
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_page_says_why_the_last_attempt_failed(alice_client, alice_invoice):
    _payment(alice_invoice, 1, PaymentStatus.SUCCEEDED)  # an older attempt
    _payment(alice_invoice, 2, PaymentStatus.FAILED, "Your card was declined.")

    html, queries = _page(alice_client, alice_invoice)

    assert "Last attempt: Your card was declined." in html
    assert queries == 2  # the invoice with its extras, its lines; Stripe off: no cards


def test_a_failure_followed_by_a_newer_attempt_is_not_shown(alice_client, alice_invoice):
    _payment(alice_invoice, 1, PaymentStatus.FAILED, "Your card was declined.")
    _payment(alice_invoice, 2, PaymentStatus.PROCESSING)

    html, _ = _page(alice_client, alice_invoice)

    assert "Last attempt" not in html


def test_credit_notes_are_read_only_when_the_invoice_has_some(alice_client, alice_invoice):
    _, without = _page(alice_client, alice_invoice)
    CreditNote.objects.create(
        invoice=alice_invoice,
        year=2026,
        sequence=1,
        number="CN-2026-1",
        amount=100,
        currency=alice_invoice.currency,
        reason="Goodwill",
        issued_on=dt.date(2026, 3, 7),
    )

    html, with_note = _page(alice_client, alice_invoice)

    assert "CN-2026-1 of 7 Mar 2026" in html and "(Goodwill)" in html
    assert (without, with_note) == (2, 3)


def test_another_customer_gets_404(client, bob, alice_invoice):
    client.force_login(bob)
    response = client.get(reverse("billing:invoice_detail", args=[alice_invoice.pk]))
    assert response.status_code == 404
