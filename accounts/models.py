from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField
from phonenumber_field.modelfields import PhoneNumberField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields: object) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(
        self, email: str, password: str | None = None, **extra_fields: object
    ) -> User:
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer (or a staff member). The email address is the login."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    business_name = models.CharField(max_length=150, blank=True)
    phone = PhoneNumberField(blank=True, help_text="International format, e.g. +44 20 7946 0958.")
    address_line1 = models.CharField("street address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField("postcode / ZIP", max_length=20, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    country = CountryField(blank=True)

    is_staff = models.BooleanField(default=False, help_text="Staff can sign in to the admin site.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    processing_restricted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the customer asked to restrict processing (GDPR art. 18): "
        "no marketing reaches them while it is set.",
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = "customer"
        verbose_name_plural = "customers"
        ordering = ["-date_joined"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["full_name"]),
            models.Index(fields=["business_name"]),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def mailing_address_lines(self) -> list[str]:
        """The postal address as printed on an envelope, empty parts left out."""
        city_line = " ".join(part for part in (self.postcode, self.city) if part)
        lines = [self.address_line1, self.address_line2, city_line, self.region]
        if self.country:
            lines.append(self.country.name)
        return [line for line in lines if line]
