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


def test_no_module_builds_an_absolute_link_by_hand():
    # Every link that leaves the request goes through core.links.absolute_url.
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    apps = ["core", "accounts", "notifications", "verification", "provisioning", "billing"]
    apps += ["support", "privacy"]
    by_hand = [
        f"{path.relative_to(root)}:{number}"
        for app in apps
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts and path != root / "core" / "links.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "SITE_URL.rstrip" in line or "build_absolute_uri(" in line
    ]

    assert by_hand == []
