"""How billing asks whether a cookie consent group was accepted.

The consent app (core/consent.py) may not be on main yet; this is the one place
to rewire. Without it, no optional group counts as accepted.
"""

from __future__ import annotations

import importlib

from django.http import HttpRequest


def functional_cookies_allowed(request: HttpRequest) -> bool:
    try:
        module = importlib.import_module("core.consent")
    except ImportError:
        return False
    has_consent = getattr(module, "has_consent", None)
    return bool(has_consent and has_consent(request, "functional"))
