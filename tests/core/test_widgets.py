from __future__ import annotations

from django import forms
from django.test import SimpleTestCase

from core.widgets import Select, TextInput

CHOICES = [
    ("", "Choose a country"),
    ("GB", "United Kingdom"),
    ("FR", 'France & "overseas"'),
    ("Islands", [("AX", "Åland <Islands>"), ("FO", "Faroe Islands")]),
]


class SelectTests(SimpleTestCase):
    def _both(self, value, attrs=None):
        ours = Select(choices=CHOICES, attrs={"autocomplete": "country"})
        django = forms.Select(choices=CHOICES, attrs={"autocomplete": "country"})
        return (
            ours.render("country", value, attrs=attrs),
            django.render("country", value, attrs=attrs),
        )

    def test_it_renders_the_markup_of_djangos_select(self):
        for value in ["", "GB", "FO", None, "XX"]:
            ours, django = self._both(value, {"id": "id_country", "required": True})
            self.assertHTMLEqual(ours, django)

    def test_it_escapes_labels_and_values(self):
        ours, _ = self._both("FR")
        assert "France &amp; &quot;overseas&quot;" in ours
        assert "Åland &lt;Islands&gt;" in ours

    def test_a_form_field_with_it_selects_the_bound_value(self):
        class CountryForm(forms.Form):
            country = forms.ChoiceField(choices=CHOICES, widget=Select)

        html = str(CountryForm(data={"country": "AX"})["country"])
        assert '<option value="AX" selected>' in html
        assert html.count(" selected") == 1


class TextInputTests(SimpleTestCase):
    def test_it_renders_exactly_the_markup_of_djangos_text_input(self):
        attrs = {"autocomplete": "name", "maxlength": 200}
        for value in ["", "Ann", None, 'O\'Brien & "Sons" <script>alert(1)</script>', 7]:
            for extra in [None, {"id": "id_name", "required": True, "aria-invalid": "true"}]:
                ours = TextInput(attrs=attrs).render("full_name", value, attrs=extra)
                django = forms.TextInput(attrs=attrs).render("full_name", value, attrs=extra)
                assert ours == django

    def test_it_leaves_out_false_attributes_and_escapes_hostile_values(self):
        html = TextInput(attrs={"disabled": False, "data-x": '"><b>'}).render(
            "n", "<script>alert(1)</script>"
        )
        assert "disabled" not in html
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
        assert 'data-x="&quot;&gt;&lt;b&gt;"' in html

    def test_a_bound_form_field_keeps_djangos_attributes(self):
        class NameForm(forms.Form):
            name = forms.CharField(max_length=20, widget=TextInput, help_text="Yours")

        class DjangoForm(forms.Form):
            name = forms.CharField(max_length=20, help_text="Yours")

        ours, django = NameForm(data={"name": ""}), DjangoForm(data={"name": ""})
        assert str(ours["name"]) == str(django["name"])
