"""The flush that empties the test database after each transactional test
(tests/pgflush: DELETE instead of TRUNCATE) leaves every table empty, rows that
reference each other included, but the content types and permissions, which it keeps
as they were: exactly one per model and per model permission."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from billing.services.orders import CartLine, order_place
from tests.pgflush.base import KEPT_TABLES


def _kept_rows() -> tuple[set[tuple[int, str, str]], set[tuple[int, str, str, str]]]:
    content_types = set(ContentType.objects.values_list("pk", "app_label", "model"))
    permissions = set(
        Permission.objects.values_list(
            "pk", "content_type__app_label", "content_type__model", "codename"
        )
    )
    return content_types, permissions


@pytest.mark.django_db(transaction=True)
def test_the_flush_after_a_transactional_test_empties_every_table_but_the_models_own(
    alice, plan, uk_vat
):
    order_place(user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR")
    tables = connection.introspection.django_table_names(only_existing=True)
    kept_before = _kept_rows()

    # What TransactionTestCase._fixture_teardown runs between tests, post_migrate
    # signal (which adds any missing content type or permission) included.
    call_command(
        "flush", verbosity=0, interactive=False, reset_sequences=False, allow_cascade=False
    )

    with connection.cursor() as cursor:
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows[table] = cursor.fetchone()[0]
    assert {table: count for table, count in rows.items() if count} == {
        "django_content_type": len(kept_before[0]),
        "auth_permission": len(kept_before[1]),
    }
    assert len(tables) > 50
    assert KEPT_TABLES == {ContentType._meta.db_table, Permission._meta.db_table}

    # The same rows, ids included (kept, not deleted and put back), and they are the
    # models' own: one content type per model, its permissions, nothing else.
    content_types, permissions = _kept_rows()
    assert (content_types, permissions) == kept_before
    models = [model for config in apps.get_app_configs() for model in config.get_models()]
    assert {(app, model) for _, app, model in content_types} == {
        (model._meta.app_label, model._meta.model_name) for model in models
    }
    assert {(app, model, codename) for _, app, model, codename in permissions} == {
        (model._meta.app_label, model._meta.model_name, codename)
        for model in models
        for codename in [
            *(f"{action}_{model._meta.model_name}" for action in model._meta.default_permissions),
            *(codename for codename, _ in model._meta.permissions),
        ]
    }
