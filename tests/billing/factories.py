from __future__ import annotations

import factory

from billing.models import PaymentMethod, Price, Product, ProductKind, TaxRate
from tests.factories import ModelFactory


class ProductFactory(ModelFactory[Product]):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Plan {n}")
    slug = factory.Sequence(lambda n: f"plan-{n}")
    kind = ProductKind.PLAN
    description = "A hosting plan."


class PriceFactory(ModelFactory[Price]):
    class Meta:
        model = Price

    product = factory.SubFactory(ProductFactory)
    currency = "EUR"
    cycle = "monthly"
    amount = 1000
    setup_fee = 0


class TaxRateFactory(ModelFactory[TaxRate]):
    class Meta:
        model = TaxRate
        django_get_or_create = ("country",)

    country = "GB"
    name = "VAT"
    rate = "20.00"
    is_eu = False


class PaymentMethodFactory(ModelFactory[PaymentMethod]):
    class Meta:
        model = PaymentMethod

    stripe_payment_method_id = factory.Sequence(lambda n: f"pm_test{n:06d}")
    brand = "visa"
    last4 = "4242"
    exp_month = 12
    exp_year = 2034
    country = "US"
    fingerprint = factory.Sequence(lambda n: f"fp{n}")
    three_d_secure_supported = True
    is_default = True
