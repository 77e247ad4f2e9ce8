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
    ("Orders", "billing:orders", ()),
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
    """The menu, with at most one entry current: the one whose URL or prefix matches the
    path the longest (/account/privacy/ is Privacy, not Account as well)."""
    entries = []
    for label, name, prefixes in CLIENT_AREA_MENU:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        match = max((len(p) for p in (url, *prefixes) if path.startswith(p)), default=0)
        entries.append((label, url, match))
    best = max((match for _, _, match in entries), default=0)
    current_seen = False
    items = []
    for label, url, match in entries:
        current = bool(best) and match == best and not current_seen
        current_seen = current_seen or current
        items.append(MenuItem(label=label, url=url, current=current))
    return items
