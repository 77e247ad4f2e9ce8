"""Customer forms.

This module is named by ACCOUNT_SIGNUP_FORM_CLASS, so it must not import
allauth.account.forms (allauth imports it while building its own forms).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField  # type: ignore[attr-defined]  # absent from its stub
from phonenumber_field.formfields import PhoneNumberField

from core.widgets import Select, TextInput

from .models import User
from .services import PROFILE_FIELDS, user_update_profile


class CustomerSignupForm(forms.Form):
    """The extra fields allauth's sign-up form asks for: who the customer is and where."""

    full_name = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    business_name = forms.CharField(
        max_length=150,
        required=False,
        label="Business name (optional)",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    phone = PhoneNumberField(
        help_text="International format, starting with + and the country code.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    address_line1 = forms.CharField(
        label="Street address",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Address line 2 (optional)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    postcode = forms.CharField(
        label="Postcode / ZIP",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    region = forms.CharField(
        label="State / region (optional)",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    country = LazyTypedChoiceField(
        choices=[("", "Choose a country")] + list(countries),
        widget=Select(attrs={"autocomplete": "country"}),
    )

    accept_terms = forms.BooleanField(
        label="I accept the terms of service and the privacy policy",
        help_text=lazy(
            lambda: format_html(
                'Read the <a href="{}">terms of service</a> and the '
                '<a href="{}">privacy policy</a>.',
                reverse("privacy:terms"),
                reverse("privacy:policy"),
            ),
            SafeString,
        )(),
        error_messages={"required": "You need to accept the terms and the privacy policy."},
    )

    def signup(self, request: HttpRequest, user: User) -> None:
        user_update_profile(
            user=user, data={name: self.cleaned_data[name] for name in PROFILE_FIELDS}
        )


class ProfileForm(forms.ModelForm[User]):
    """Every profile field; the email address changes through its own verified flow."""

    class Meta:
        model = User
        fields = PROFILE_FIELDS
        widgets = {
            "full_name": TextInput(attrs={"autocomplete": "name"}),
            "business_name": TextInput(attrs={"autocomplete": "organization"}),
            "phone": TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "address_line1": TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": TextInput(attrs={"autocomplete": "address-line2"}),
            "city": TextInput(attrs={"autocomplete": "address-level2"}),
            "postcode": TextInput(attrs={"autocomplete": "postal-code"}),
            "region": TextInput(attrs={"autocomplete": "address-level1"}),
            "country": Select(attrs={"autocomplete": "country"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required on the profile page as at sign-up: an invoice needs a name and an address.
        for name in ("full_name", "phone", "address_line1", "city", "postcode", "country"):
            self.fields[name].required = True
        self.fields["business_name"].label = "Business name (optional)"
        self.fields["address_line2"].label = "Address line 2 (optional)"
        self.fields["region"].label = "State / region (optional)"
