"""Demo data for the embedded default: a staff member and a customer who can sign in.

Idempotent: running it again updates the same two people and creates nothing new.
"""

from __future__ import annotations

from typing import TypedDict

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User


class DemoPerson(TypedDict):
    email: str
    password: str
    is_staff: bool
    is_superuser: bool
    profile: dict[str, str]


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    {
        "email": "staff@example.com",
        "password": "demo-staff-password",
        "is_staff": True,
        "is_superuser": True,
        "profile": {"full_name": "Sam Staff", "country": "GB"},
    },
    {
        "email": "customer@example.com",
        "password": "demo-customer-password",
        "is_staff": False,
        "is_superuser": False,
        "profile": {
            "full_name": "Casey Customer",
            "business_name": "Casey's Bakery Ltd",
            "phone": "+442079460958",
            "address_line1": "221B Baker Street",
            "city": "London",
            "postcode": "NW1 6XE",
            "region": "Greater London",
            "country": "GB",
        },
    },
)


class Command(BaseCommand):
    help = "Creates (or refreshes) a demo staff user and a demo customer."
    # `make run` runs it between migrate and runserver, which both run the system checks
    # (a quarter of a second of CPU: every URL pattern and admin class loaded).
    requires_system_checks: list[str] = []

    def handle(self, *args: str, **options: object) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "seed_demo is for the embedded default only: these settings forbid demo "
                "accounts with known passwords."
            )
        with transaction.atomic():
            for person in DEMO_PEOPLE:
                user, _ = User.objects.update_or_create(
                    email=person["email"],
                    defaults={
                        "is_staff": person["is_staff"],
                        "is_superuser": person["is_superuser"],
                        **person["profile"],
                    },
                )
                user.set_password(person["password"])
                user.save(update_fields=["password"])
                EmailAddress.objects.update_or_create(
                    user=user,
                    email=person["email"],
                    defaults={"verified": True, "primary": True},
                )
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /accounts/login/:"))
        for person in DEMO_PEOPLE:
            role = "staff (also /admin/)" if person["is_staff"] else "customer"
            self.stdout.write(f"  {role:22} {person['email']}  /  {person['password']}")
