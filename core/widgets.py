"""Form widgets shared by the apps."""

from __future__ import annotations

import html

from django import forms
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


class TextInput(forms.TextInput):
    """Django's TextInput, rendered in Python instead of through input.html and
    attrs.html (two template renders a field: about 0.7 M instructions each on the
    profile page). The same markup, attributes in the same order (a test compares)."""

    def render(
        self,
        name: str,
        value: object,
        attrs: dict[str, object] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [
            f'<input type="{conditional_escape(widget["type"])}" '
            f'name="{conditional_escape(widget["name"])}"'
        ]
        if widget["value"] is not None:
            parts.append(f' value="{conditional_escape(str(widget["value"]))}"')
        for key, attr in widget["attrs"].items():
            if attr is True:
                parts.append(f" {conditional_escape(key)}")
            elif attr is not False:
                parts.append(f' {conditional_escape(key)}="{conditional_escape(str(attr))}"')
        parts.append(">")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


class Select(forms.Select):
    """Django's Select, rendered in Python instead of one template include per option.

    The same markup as Django's select.html and select_option.html (a test compares
    them). With the stock templates a country list (250 options) took two thirds of
    the profile page's time.
    """

    def render(
        self,
        name: str,
        value: object,
        attrs: dict[str, object] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        wanted = {str(v) for v in self.format_value(value)}
        parts = [f'<select name="{html.escape(name)}"{flatatt(final_attrs)}>']
        selected_one = False
        for group_value, group_label in self.choices:
            grouped = isinstance(group_label, list | tuple)
            options = group_label if grouped else [(group_value, group_label)]
            if grouped:
                parts.append(f'<optgroup label="{html.escape(str(group_value))}">')
            for option_value, option_label in options:
                text = "" if option_value is None else str(option_value)
                selected = text in wanted and (self.allow_multiple_selected or not selected_one)
                selected_one = selected_one or selected
                parts.append(
                    f'<option value="{html.escape(text)}"{" selected" if selected else ""}>'
                    f"{html.escape(str(option_label))}</option>"
                )
            if grouped:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
