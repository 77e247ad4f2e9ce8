from __future__ import annotations

from typing import TYPE_CHECKING, Any

import factory
from allauth.account.models import EmailAddress
from django.db.models import Model

from accounts.models import User

TEST_PASSWORD = "correct-horse-battery-staple"


class ModelFactory[M: Model](factory.django.DjangoModelFactory[M]):
    """Base of our factories: `SomeFactory(...)` is typed as the model it saves."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory_boy's metaclass makes calling a factory return the saved model instance.
        def __new__(cls, *args: Any, **kwargs: Any) -> M: ...  # type: ignore[misc]


def _set_password(user: User, create: bool, extracted: str | None, **kwargs: object) -> None:
    user.set_password(extracted or TEST_PASSWORD)
    if create:
        user.save(update_fields=["password"])


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
    password = factory.PostGeneration(_set_password)
    verified_email = factory.PostGeneration(_verify_email)
