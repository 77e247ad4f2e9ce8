"""Admin pieces every app shares."""

from __future__ import annotations

from django.http import HttpRequest


class RecordAdminMixin:
    """A record staff read but never add, edit or delete (payments, credit notes, cards).

    Every field is read-only; actions may still change state through services.
    """

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
