"""privacy/ finds every app's personal_data module, and every personal model is in one."""

from __future__ import annotations

import pytest
from django.db import models

from privacy import discovery


def test_it_finds_the_personal_data_module_of_every_app_that_has_one():
    found = {source.app_label for source in discovery.sources()}

    assert {"accounts", "notifications", "verification", "billing", "privacy"} <= found


def test_every_model_that_points_at_a_customer_or_holds_a_personal_field_is_covered():
    # A new model with a user relation or a field such as email, phone, IP or address
    # must be listed in its app's personal_data.MODELS (and exported and erased there).
    assert discovery.uncovered_models() == set()


def test_the_check_finds_a_new_model_that_no_module_covers():
    class Note(models.Model):
        contact_email = models.EmailField()

        class Meta:
            app_label = "privacy"

        def __str__(self) -> str:
            return self.contact_email

    try:
        assert "privacy.Note" in discovery.uncovered_models()
    finally:
        from django.apps import apps

        del apps.all_models["privacy"]["note"]
        apps.clear_cache()


@pytest.mark.parametrize("label", ["accounts.User", "billing.Invoice", "verification.Case"])
def test_models_with_personal_fields_are_recognised(label):
    assert label in discovery.personal_models()


def test_every_exemption_names_a_real_model_and_gives_a_reason():
    from django.apps import apps

    for label, reason in discovery.NOT_PERSONAL.items():
        assert apps.get_model(label)._meta.label == label
        assert len(reason) > 20
