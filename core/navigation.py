"""The client-area menu.

Each entry names a URL; an entry whose app has not shipped its pages yet does
not resolve and is left out, so the menu never links to a page that isn't there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

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


Entry = tuple[str, str, tuple[str, ...]]  # label, URL, other prefixes of the section


@cache
def _entries(script_prefix: str, urlconf: str | None) -> tuple[Entry, ...]:
    """The entries that resolve, with their URLs: the same for every page a process
    serves under one script prefix and URLconf, so reversed once (8 reverses were about
    0.5 M instructions a signed-in page)."""
    found = []
    for label, name, prefixes in CLIENT_AREA_MENU:
        try:
            found.append((label, reverse(name), prefixes))
        except NoReverseMatch:
            continue
    return tuple(found)


setting_changed.connect(lambda **_: _entries.cache_clear(), weak=False)


def client_area_menu(path: str) -> list[MenuItem]:
    """The menu, with at most one entry current: the one whose URL or prefix matches the
    path the longest (/account/privacy/ is Privacy, not Account as well)."""
    entries = []
    for label, url, prefixes in _entries(get_script_prefix(), get_urlconf()):
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
