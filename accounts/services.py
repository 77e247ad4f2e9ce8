from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import User

PROFILE_FIELDS = (
    "full_name",
    "business_name",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "postcode",
    "region",
    "country",
)


@transaction.atomic
def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Writes the given profile fields (not the email: that changes only once verified)."""
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    for name, value in data.items():
        setattr(user, name, value if value is not None else "")
    user.save(update_fields=sorted(data))
    return user
