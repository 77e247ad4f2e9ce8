"""Paths as logs may show them: the URL pattern, never a token, an email or a query string.

Password-reset keys, email-confirmation keys and unsubscribe tokens travel in paths;
anyone who read a log holding one could take over the account. A path that resolves
is logged with each captured value replaced by its name
(/accounts/password/reset/key/<uidb36>-<key>/); one that does not resolve keeps its
short segments and loses the long ones; a query string is never shown.
"""

from __future__ import annotations

import re

from django.urls import Resolver404, resolve

# A segment this long is an id, key or token, not a word of a URL.
LONG_SEGMENT = 20
PATH_IN_TEXT = re.compile(r"(?<![\w/])/[^\s\"'<>]*")


def _secret_looking(segment: str) -> bool:
    return len(segment) >= LONG_SEGMENT or "@" in segment


def redact_path(path: str) -> str:
    path, question, _query = path.partition("?")
    try:
        match = resolve(path)
    except (Resolver404, ValueError):
        redacted = "/".join(
            "<redacted>" if _secret_looking(segment) else segment for segment in path.split("/")
        )
    else:
        redacted = path
        values = [(name, str(value)) for name, value in match.kwargs.items()]
        values += [(f"arg{index}", str(value)) for index, value in enumerate(match.args)]
        # Longest first, so a value inside another is not replaced first; only where it
        # stands alone between slashes or dashes (allauth's "<uidb36>-<key>").
        for name, value in sorted(values, key=lambda item: -len(item[1])):
            if value:
                pattern = rf"(?<=[/-]){re.escape(value)}(?=[/-]|$)"
                redacted = re.sub(pattern, f"<{name}>", redacted)
    return redacted + ("?<redacted>" if question else "")


def redact_paths_in(text: str) -> str:
    """Every path-looking part of a log message, redacted."""
    return PATH_IN_TEXT.sub(lambda found: redact_path(found.group(0)), text)
