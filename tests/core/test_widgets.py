from __future__ import annotations

from django import forms
from django.test import SimpleTestCase

from core.widgets import Select

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
