from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from accounts.models import User

from .domains import domain_check, domain_unicode
from .models import BillingCycle, CancelWhen, Currency, PaymentMethod, Product, ProductKind


class MoneyAmountField(forms.DecimalField):
    """An amount staff type in major units ("12.50") and we keep in minor units (1250).

    Every currency we sell has two decimals (billing.money); the form shows the stored
    cents back as "12.50", so nobody reads or types 1250 for twelve fifty.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal(0), **kwargs)

    def prepare_value(self, value: object) -> object:
        if isinstance(value, int):
            return (Decimal(value) / 100).quantize(Decimal("0.01"))
        return value

    def clean(self, value: object) -> int | None:
        amount = super().clean(value)
        return None if amount is None else int(amount * 100)

    def has_changed(self, initial: object, data: object) -> bool:
        try:
            return self.clean(data) != (initial if initial not in ("", None) else None)
        except forms.ValidationError:
            return True


VAT_NUMBER = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,12}$")


class CurrencyForm(forms.Form):
    currency = forms.ChoiceField(label="Show prices in")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["currency"]).choices = [
            (code, code) for code in settings.BILLING_CURRENCIES
        ]


class AddToCartForm(forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True), widget=forms.HiddenInput
    )
    cycle = forms.ChoiceField(label="Billing cycle", choices=BillingCycle.choices)
    addons = forms.ModelMultipleChoiceField(
        label="Add-ons",
        queryset=Product.objects.filter(is_active=True, kind=ProductKind.ADDON),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    domain = forms.CharField(
        label="Your domain",
        max_length=300,
        required=False,
        help_text="The domain this hosting is for, like example.com (you can point it "
        "here afterwards).",
    )

    def __init__(
        self, *args: Any, in_cart: Callable[[str], bool] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.in_cart = in_cart or (lambda domain: False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        product, cycle = cleaned.get("product"), cleaned.get("cycle")
        if product and cycle and not product.prices.filter(cycle=cycle).exists():
            raise forms.ValidationError("This product is not sold with that billing cycle.")
        for addon in cleaned.get("addons") or []:
            if product and not addon.addon_for.filter(pk=product.pk).exists():
                raise forms.ValidationError(f"{addon.name} is not sold with {product.name}.")
            if cycle and not addon.prices.filter(cycle=cycle).exists():
                raise forms.ValidationError(f"{addon.name} is not sold with that billing cycle.")
        if product is None:
            return cleaned
        if not product.requires_domain:
            cleaned["domain"] = ""
            return cleaned
        try:
            cleaned["domain"] = domain_check(cleaned.get("domain", ""))
        except forms.ValidationError as exc:
            self.add_error("domain", exc)
            return cleaned
        if self.in_cart(cleaned["domain"]):
            self.add_error(
                "domain", f"{domain_unicode(cleaned['domain'])} is in your cart already."
            )
        return cleaned


class CheckoutForm(forms.Form):
    vat_number = forms.CharField(
        label="EU VAT number (businesses, optional)",
        max_length=20,
        required=False,
        help_text="With a valid VAT number from another EU country we charge no VAT "
        "(reverse charge).",
    )

    def __init__(self, *args: Any, country: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country = str(country or "")

    def clean_vat_number(self) -> str:
        value = str(self.cleaned_data["vat_number"]).replace(" ", "").upper()
        if value and not VAT_NUMBER.match(value):
            raise forms.ValidationError(
                "Enter the VAT number with its country prefix, e.g. DE123456789."
            )
        prefix = "EL" if self.country == "GR" else self.country
        if value and prefix and not value.startswith(prefix):
            # Only a number of the customer's own country gives a reverse charge.
            raise forms.ValidationError(
                f"A VAT number from your country starts with {prefix}. Check the number, "
                "or the country in your profile."
            )
        return value


class PayInvoiceForm(forms.Form):
    payment_method = forms.ModelChoiceField(
        label="Card", queryset=PaymentMethod.objects.none(), empty_label=None
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField[PaymentMethod], self.fields["payment_method"]
        ).queryset = PaymentMethod.objects.filter(user=user)


class SetupCompleteForm(forms.Form):
    setup_intent = forms.RegexField(regex=r"^seti_[A-Za-z0-9_]+$", max_length=255)


class PaymentReturnForm(forms.Form):
    payment_intent = forms.RegexField(regex=r"^pi_[A-Za-z0-9_]+$", max_length=255)


class CancelServiceForm(forms.Form):
    when = forms.ChoiceField(
        label="When",
        choices=CancelWhen.choices,
        widget=forms.RadioSelect,
        initial=CancelWhen.END_OF_PERIOD,
    )
    reason = forms.CharField(
        label="Why are you leaving? (optional)", max_length=255, required=False
    )
    confirm = forms.BooleanField(
        label="I understand the account and its files are removed when the cancellation runs."
    )


class ChangePlanForm(forms.Form):
    product = forms.ModelChoiceField(label="New plan", queryset=Product.objects.none())

    def __init__(self, *args: Any, options: QuerySet[Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField[Product], self.fields["product"]).queryset = options


class ManualInvoiceForm(forms.Form):
    """Staff's own invoice: to whom, in which currency, due when (lines in a formset)."""

    customer_email = forms.EmailField(label="Customer's email")
    currency = forms.ChoiceField(choices=Currency.choices)
    due_date = forms.DateField(help_text="YYYY-MM-DD")

    def clean_customer_email(self) -> User:
        email = self.cleaned_data["customer_email"]
        customer = User.objects.filter(email__iexact=email).first()
        if customer is None:
            raise forms.ValidationError(f"No customer has the address {email}.")
        return customer


class ManualLineForm(forms.Form):
    description = forms.CharField(max_length=255)
    quantity = forms.IntegerField(min_value=1, max_value=10_000, initial=1)
    unit_price = MoneyAmountField(label="Unit price")


ManualLineFormSet = forms.formset_factory(
    ManualLineForm, extra=3, min_num=1, validate_min=True, max_num=50, validate_max=True
)


class BankTransferForm(forms.Form):
    amount = MoneyAmountField(help_text="As received, e.g. 63.47")
    reference = forms.CharField(max_length=140, help_text="The reference on the bank statement.")
    received_on = forms.DateField(help_text="YYYY-MM-DD")


class CreditAdjustForm(forms.Form):
    """Staff add credit to a customer's balance or take some away, saying why."""

    customer_email = forms.EmailField(label="Customer's email")
    currency = forms.ChoiceField(choices=Currency.choices)
    direction = forms.ChoiceField(
        choices=[("add", "Add credit"), ("remove", "Remove credit")], widget=forms.RadioSelect
    )
    amount = MoneyAmountField(help_text="e.g. 10.00")
    note = forms.CharField(
        max_length=255, help_text="Why: kept with the entry and shown to the customer."
    )

    def clean_customer_email(self) -> User:
        email = self.cleaned_data["customer_email"]
        customer = User.objects.filter(email__iexact=email).first()
        if customer is None:
            raise forms.ValidationError(f"No customer has the address {email}.")
        return customer

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        return amount

    def signed_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        return amount if self.cleaned_data["direction"] == "add" else -amount
