"""Form widgets shared by the apps."""

from __future__ import annotations

import html

from django import forms
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.utils.safestring import SafeString, mark_safe


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
