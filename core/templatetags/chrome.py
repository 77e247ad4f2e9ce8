"""`{% fragment %}`: a part of the page chrome rendered once per process and per what it
depends on, then copied into every page.

    {% load chrome %}
    {% fragment "header" user.is_authenticated user.is_staff client_section %}
      ... markup, {% url %}, {% csrf_token %} ...
    {% endfragment %}

The chrome every page shares (the header and its menu, the consent banner's text, the
footer links) cost about 3.7 M instructions a page through the template engine
(docs/benchmarks.md), most of it tags whose output never changes: `{% url %}` of the
same names, `{% static %}`, `{% if %}` on the same few facts. Inside a fragment the
markup stays in the template, written and escaped as before; what it depends on is named
after its name (each value's repr is part of the key), together with the script prefix.
Its output is kept in this process's memory, at most MAX_FRAGMENTS of them.

The one per-request value allowed inside is `{% csrf_token %}`: the fragment is rendered
with a stand-in token, and each page puts its own in. Anything else that differs per
request or per customer (a name, the path, messages) must stay outside a fragment.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.signals import setting_changed
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MAX_FRAGMENTS = 256
# Never a real token: those are 64 letters and digits.
STAND_IN = "fragment-csrf-token-stand-in"
STAND_IN_INPUT = str(
    format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', STAND_IN)
)
_kept: dict[tuple[Any, ...], str] = {}


def forget_fragments(**_: Any) -> None:
    """Settings changed (tests): SITE_NAME or the URLs may read differently now."""
    _kept.clear()


setting_changed.connect(forget_fragments, dispatch_uid="core-chrome-fragments")


class FragmentNode(template.Node):
    def __init__(self, name: str, vary_on: list[FilterExpression], nodelist: NodeList) -> None:
        self.name = name
        self.vary_on = vary_on
        self.nodelist = nodelist

    def render(self, context: Context) -> SafeString:
        key = (
            self.name,
            get_script_prefix(),
            get_urlconf(),
            *(repr(value.resolve(context)) for value in self.vary_on),
        )
        html = _kept.get(key)
        if html is None:
            with context.push(csrf_token=STAND_IN):
                html = self.nodelist.render(context)
            if len(_kept) >= MAX_FRAGMENTS:
                _kept.clear()
            _kept[key] = html
        if STAND_IN_INPUT in html:
            html = html.replace(STAND_IN_INPUT, CsrfTokenNode().render(context))
        return mark_safe(html)  # noqa: S308 - the template engine escaped it when it was rendered


@register.tag
def fragment(parser: Parser, token: Token) -> FragmentNode:
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError(
            "{% fragment %} takes a quoted name, then the values it depends on."
        )
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(bits[1][1:-1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist)
