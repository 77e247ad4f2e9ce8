"""Finds every app's personal_data.py, the way admin finds admin.py.

privacy/ is the top floor: export and erasure reach the other apps only through these
modules, never through their models. A module implements `PersonalDataModule`:

    MODELS: tuple[type[Model], ...]   # every model whose rows it exports and erases
    def export(user) -> dict[str, object]          # category name -> JSON-ready value, or a
                                                    # function returning it (built one at a time)
    def erase(user) -> None                         # idempotent; privacy runs it in a transaction
    def erasure_blockers(user) -> list[ErasureBlocker]   # optional: what must be cleared first
    def export_files(user) -> Iterable[ExportFile]       # optional: files for the zip

tests/privacy/test_discovery.py fails when a model that points at a customer, or holds
a personal field, is in no module's MODELS (and not in NOT_PERSONAL with a reason).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Protocol, cast

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.module_loading import autodiscover_modules, module_has_submodule

from accounts.models import User
from core.personal import ErasureBlocker, ExportFile


class PersonalDataModule(Protocol):
    MODELS: tuple[type[models.Model], ...]

    def export(self, user: User) -> Mapping[str, object]: ...

    def erase(self, user: User) -> None: ...


@dataclass(frozen=True)
class Source:
    """One app's personal_data module, with the optional parts filled in."""

    app_label: str
    module: PersonalDataModule

    def export(self, user: User) -> Mapping[str, object]:
        return self.module.export(user)

    def erase(self, user: User) -> None:
        self.module.erase(user)

    def erasure_blockers(self, user: User) -> list[ErasureBlocker]:
        function = getattr(self.module, "erasure_blockers", None)
        return list(function(user)) if function is not None else []

    def export_files(self, user: User) -> Iterable[ExportFile]:
        function = getattr(self.module, "export_files", None)
        return function(user) if function is not None else ()


# Models that point at a user or have a personal-looking field but hold nothing of a
# customer's that export or erasure must reach.
NOT_PERSONAL: dict[str, str] = {
    "admin.LogEntry": "what staff did in the admin; customers never sign in there",
    "account.EmailConfirmation": "deleted with its EmailAddress (accounts erases those)",
}

PERSONAL_FIELD = re.compile(
    r"(email|phone|(^|_)ip($|_)|ip_address|full_name|billing_name|business|address"
    r"|street|postcode|user_agent|vat_number|recipient)"
)


def discover() -> None:
    """Imports every app's personal_data module (PrivacyConfig.ready calls this)."""
    autodiscover_modules("personal_data")


@cache
def sources() -> tuple[Source, ...]:
    """Every installed app's personal_data module, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        if config.module is not None and module_has_submodule(config.module, "personal_data"):
            module = import_module(f"{config.name}.personal_data")
            found.append(Source(app_label=config.label, module=cast(PersonalDataModule, module)))
    return tuple(found)


def covered_models() -> set[str]:
    return {model._meta.label for source in sources() for model in source.module.MODELS}


def personal_models() -> set[str]:
    """Labels of every model with a relation to the user or a field that looks personal."""
    found = set()
    for model in apps.get_models(include_auto_created=False):
        if model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            points_at_user = (
                field.is_relation
                and field.related_model is not None
                and field.related_model._meta.label == settings.AUTH_USER_MODEL
            )
            if points_at_user or PERSONAL_FIELD.search(field.name):
                found.add(model._meta.label)
                break
    return found


def uncovered_models() -> set[str]:
    return personal_models() - covered_models() - set(NOT_PERSONAL)
