from __future__ import annotations

import pytest

from billing.models import Payment
from tests.factories import PaymentFactory


@pytest.fixture
def pending_payment(alice_invoice) -> Payment:
    """Alice's invoice with one card attempt sent to Stripe (the webhook tests' intent)."""
    return PaymentFactory(invoice=alice_invoice, attempt=1, stripe_payment_intent_id="pi_3Test0001")


from tests.stripe_fixtures import fake_stripe, localstripe, localstripe_url  # noqa: E402, F401
