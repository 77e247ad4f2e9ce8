"""Staff pages for what we sell: products with their prices, tax rates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from ..forms import MoneyAmountField
from ..models import Price, Product, ProductKind, TaxRate


class PriceForm(forms.ModelForm[Price]):
    amount = MoneyAmountField(label="Price per cycle", help_text="In the price's currency: 12.50")
    setup_fee = MoneyAmountField(label="Setup fee", initial=0, help_text="Once, e.g. 10.00")

    class Meta:
        model = Price
        fields = ("currency", "cycle", "amount", "setup_fee")


class PriceInline(admin.TabularInline[Price, Product]):
    model = Price
    form = PriceForm
    extra = 1


class ProductForm(forms.ModelForm[Product]):
    class Meta:
        model = Product
        fields = (
            "name",
            "slug",
            "kind",
            "category",
            "addon_for",
            "description",
            "is_active",
            "sort_order",
            "group",
            "server_group",
            "package",
            "module_options",
            "requires_domain",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") != ProductKind.ADDON and cleaned.get("addon_for"):
            self.add_error("addon_for", "Only add-ons are sold with plans.")
        return cleaned


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    form = ProductForm
    list_display = (
        "name",
        "kind",
        "category",
        "group",
        "server_group",
        "package",
        "is_active",
        "sort_order",
    )
    list_filter = ("kind", "category", "is_active", "group", "server_group", "requires_domain")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("addon_for",)
    inlines = [PriceInline]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin[TaxRate]):
    list_display = ("country", "name", "rate", "is_eu")
    list_filter = ("is_eu",)
