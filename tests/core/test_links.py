"""Links that leave the request are built on SITE_URL, whatever Host the request had."""

from __future__ import annotations

from django.urls import reverse

from core.links import absolute_url


def test_it_puts_the_path_on_the_public_address(settings):
    settings.SITE_URL = "https://panel.example.com/"
    assert (
        absolute_url(reverse("billing:invoices")) == "https://panel.example.com/billing/invoices/"
    )
    assert absolute_url() == "https://panel.example.com"
