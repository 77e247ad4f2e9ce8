"""`{{ session.user_agent|client }}`: the browser, system and device of a session."""

from __future__ import annotations

from django import template

from accounts.useragent import Client, describe

register = template.Library()


@register.filter
def client(user_agent: str) -> Client:
    return describe(user_agent)
