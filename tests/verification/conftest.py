from __future__ import annotations

import pytest

from tests.verification.factories import CaseFactory


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Each test's documents in its own folder (the STORAGES change resets the handler)."""
    storages = {key: dict(value) for key, value in settings.STORAGES.items()}
    storages["verification"] = {
        "BACKEND": "verification.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "private")},
    }
    settings.STORAGES = storages
    return tmp_path / "private"


@pytest.fixture
def alice_case(alice):
    return CaseFactory(user=alice)


@pytest.fixture
def plan(db):
    from tests.factories import PriceFactory, ProductFactory, TaxRateFactory

    TaxRateFactory(country="GB", rate="20.00", is_eu=False)
    product = ProductFactory(name="Starter hosting", slug="starter")
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=500)
    return product


@pytest.fixture
def alice_invoice(alice, plan):
    from billing.services.orders import CartLine, order_place

    order = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    )
    return order.invoices.get()


from tests.stripe_fixtures import fake_stripe, localstripe, localstripe_url  # noqa: E402, F401
