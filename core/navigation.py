"""The client-area menu.

Each entry names a URL; an entry whose app has not shipped its pages yet does
not resolve and is left out, so the menu never links to a page that isn't there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

# (label, url name, other path prefixes that belong to the same section)
CLIENT_AREA_MENU: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Dashboard", "core:dashboard", ()),
    ("Services", "billing:services", ()),
    ("Invoices", "billing:invoices", ()),
    ("Payment methods", "billing:payment_methods", ()),
    ("Support", "support:tickets", ()),
    # allauth's own account pages (email, password, 2FA, sessions) live under /accounts/.
    ("Account", "accounts:index", ("/accounts/",)),
    ("Privacy", "privacy:index", ()),
)


@dataclass(frozen=True)
class MenuItem:
    label: str
    url: str
    current: bool


def client_area_menu(path: str) -> list[MenuItem]:
    items = []
    for label, name, prefixes in CLIENT_AREA_MENU:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = any(path.startswith(prefix) for prefix in (url, *prefixes))
        items.append(MenuItem(label=label, url=url, current=current))
    return items
