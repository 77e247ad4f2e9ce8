from __future__ import annotations

import pytest

from billing.models import Invoice, Payment
from billing.services.orders import CartLine, order_place
from tests.factories import PaymentFactory, PriceFactory, ProductFactory, TaxRateFactory


@pytest.fixture
def plan(db):
    product = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=500)
    PriceFactory(product=product, currency="EUR", cycle="yearly", amount=5000, setup_fee=1000)
    PriceFactory(product=product, currency="USD", cycle="monthly", amount=600)
    return product


@pytest.fixture
def uk_vat(db):
    return TaxRateFactory(country="GB", rate="20.00", is_eu=False)


@pytest.fixture
def alice_invoice(alice, plan, uk_vat) -> Invoice:
    order = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    )
    return order.invoices.get()


@pytest.fixture
def pending_payment(alice_invoice) -> Payment:
    """Alice's invoice with one card attempt sent to Stripe (the webhook tests' intent)."""
    return PaymentFactory(invoice=alice_invoice, attempt=1, stripe_payment_intent_id="pi_3Test0001")


@pytest.fixture
def hosted_plan(generic_server):  # noqa: F811 (the fixture imported below)
    product = ProductFactory(
        name="Cloud hosting",
        slug="cloud",
        group="cloud",
        server_group=generic_server.group,
        package="cloud-s",
    )
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=1000)
    return product


from tests.provisioning.conftest import fake_panel, generic_server  # noqa: E402, F401
from tests.stripe_fixtures import fake_stripe, localstripe, localstripe_url  # noqa: E402, F401
