"""localstripe signs and sends its webhooks to our live server, as Stripe would."""

from __future__ import annotations

import time

import pytest

from billing import gateway
from billing.models import InvoiceStatus, Payment, StripeEvent
from billing.services.customers import stripe_customer_ensure
from billing.services.orders import CartLine, order_place
from tests.helpers import save_card
from tests.stripe_fixtures import localstripe_register_webhook


def wait_for(condition, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_webhook_alone_settles_an_invoice(localstripe, live_server, alice, plan):
    localstripe_register_webhook(localstripe, f"{live_server.url}/billing/stripe/webhook/")
    order = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    )
    invoice = order.invoices.get()
    card = save_card(localstripe, alice)
    # As if our process died right after Stripe charged the card: only the webhook knows.
    payment = Payment.objects.create(
        invoice=invoice, attempt=1, amount=invoice.total, currency=invoice.currency
    )
    gateway.payment_intent_create(
        amount=payment.amount,
        currency=payment.currency,
        customer_id=stripe_customer_ensure(user=alice),
        payment_method_id=card.stripe_payment_method_id,
        idempotency_key=payment.idempotency_key,
        off_session=False,
        metadata={"invoice_id": str(invoice.pk), "payment_id": str(payment.pk)},
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UNPAID
    assert wait_for(
        lambda: StripeEvent.objects.filter(
            type="payment_intent.succeeded", processed_at__isnull=False
        ).exists()
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    payment.refresh_from_db()
    assert payment.stripe_payment_intent_id.startswith("pi_")
