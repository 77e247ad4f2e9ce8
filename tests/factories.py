"""Model factories for every test (factory_boy): one module, so no test imports another."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import factory
from allauth.account.models import EmailAddress
from django.db.models import Model
from django.utils import timezone

from accounts.models import User
from billing.models import (
    BillingAccount,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Price,
    Product,
    ProductKind,
    StripeEvent,
    TaxRate,
)
from notifications.models import Channel, ConsentChannel, ConsentRecord, OutboxMessage, Purpose
from privacy.models import CookieConsentRecord, DocumentAcceptance, LegalDocument

TEST_PASSWORD = "correct-horse-battery-staple"


class ModelFactory[M: Model](factory.django.DjangoModelFactory[M]):
    """Base of our factories: `SomeFactory(...)` is typed as the model it saves."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory_boy's metaclass makes calling a factory return the saved model instance.
        def __new__(cls, *args: Any, **kwargs: Any) -> M: ...  # type: ignore[misc]


def _verify_email(user: User, create: bool, extracted: bool | None, **kwargs: object) -> None:
    if create and extracted is not False:
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)


class UserFactory(ModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    full_name = factory.Faker("name")
    business_name = ""
    phone = "+442079460958"
    address_line1 = factory.Faker("street_address")
    city = "London"
    postcode = "NW1 6XE"
    country = "GB"
    # Hashed before the INSERT (an override too): setting it after would cost each user
    # a second save, and auditlog's read of the row before it (issue 9).
    password = factory.django.Password(TEST_PASSWORD)
    verified_email = factory.PostGeneration(_verify_email)


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


class BillingAccountFactory(ModelFactory[BillingAccount]):
    class Meta:
        model = BillingAccount
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
    stripe_customer_id = factory.Sequence(lambda n: f"cus_Test{n:06d}")


class InvoiceFactory(ModelFactory[Invoice]):
    """An unpaid invoice as issued today; numbers come from a sequence of its own (tests
    of the real numbering place orders through billing.services)."""

    class Meta:
        model = Invoice

    user = factory.SubFactory(UserFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    sequence = factory.Sequence(lambda n: 900_000 + n)
    number = factory.LazyAttribute(lambda invoice: f"TEST-{invoice.year}-{invoice.sequence}")
    currency = "EUR"
    status = InvoiceStatus.UNPAID
    issued_on = factory.LazyFunction(timezone.localdate)
    due_date = factory.LazyAttribute(lambda invoice: invoice.issued_on + datetime.timedelta(14))
    subtotal = 500
    tax_amount = 100
    total = factory.LazyAttribute(lambda invoice: invoice.subtotal + invoice.tax_amount)
    billing_name = factory.LazyAttribute(lambda invoice: invoice.user.full_name)
    billing_email = factory.LazyAttribute(lambda invoice: invoice.user.email)


class PaymentFactory(ModelFactory[Payment]):
    """An attempt on its invoice's full amount, waiting for Stripe."""

    class Meta:
        model = Payment

    invoice = factory.SubFactory(InvoiceFactory)
    attempt = factory.Sequence(lambda n: n + 1)
    amount = factory.LazyAttribute(lambda payment: payment.invoice.total)
    currency = factory.LazyAttribute(lambda payment: payment.invoice.currency)
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_3Test{n:06d}")


class StripeEventFactory(ModelFactory[StripeEvent]):
    class Meta:
        model = StripeEvent

    event_id = factory.Sequence(lambda n: f"evt_test{n:06d}")
    type = "customer.updated"
    payload = factory.LazyAttribute(lambda event: {"id": event.event_id, "type": event.type})


class OutboxMessageFactory(ModelFactory[OutboxMessage]):
    """A queued transactional email to its customer."""

    class Meta:
        model = OutboxMessage

    user = factory.SubFactory(UserFactory)
    channel = Channel.EMAIL
    kind = "welcome"
    recipient = factory.LazyAttribute(lambda message: message.user.email if message.user else "")
    subject = "Welcome"
    body_text = "Hello."


class NotificationConsentFactory(ModelFactory[ConsentRecord]):
    """One recorded notification choice (notifications.models.ConsentRecord)."""

    class Meta:
        model = ConsentRecord

    user = factory.SubFactory(UserFactory)
    purpose = Purpose.MARKETING_EMAIL
    granted = True
    channel = ConsentChannel.PREFERENCES_PAGE
    ip_address = "198.51.100.7"


class CookieConsentRecordFactory(ModelFactory[CookieConsentRecord]):
    """One cookie choice in the ledger (Accept all by default)."""

    class Meta:
        model = CookieConsentRecord

    visitor_id = factory.Sequence(lambda n: f"{n:032x}")
    user = None
    action = CookieConsentRecord.Action.ACCEPT_ALL
    functional = True
    performance = True
    advertising = True
    declaration_version = "test"
    ip = "203.0.113.7"


class LegalDocumentFactory(ModelFactory[LegalDocument]):
    """A published privacy policy version (`published_at=None` for a draft)."""

    class Meta:
        model = LegalDocument

    kind = LegalDocument.Kind.PRIVACY
    version = factory.Sequence(lambda n: 100 + n)
    title = "Privacy policy"
    body = "We keep what we need to run your services."
    effective_date = factory.LazyFunction(timezone.localdate)
    published_at = factory.LazyFunction(timezone.now)


class DocumentAcceptanceFactory(ModelFactory[DocumentAcceptance]):
    class Meta:
        model = DocumentAcceptance

    user = factory.SubFactory(UserFactory)
    document = factory.SubFactory(LegalDocumentFactory)
    source = DocumentAcceptance.Source.SIGNUP
    ip = "203.0.113.7"
