"""The flush that empties the test database after each transactional test
(tests/pgflush: DELETE instead of TRUNCATE) leaves every table empty, rows that
reference each other included."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from billing.services.orders import CartLine, order_place


@pytest.mark.django_db(transaction=True)
def test_the_flush_after_a_transactional_test_empties_every_table(alice, plan, uk_vat):
    order_place(user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR")
    tables = connection.introspection.django_table_names(only_existing=True)

    # What TransactionTestCase._fixture_teardown runs between tests, without the
    # post_migrate signal that then puts content types and permissions back.
    call_command(
        "flush",
        verbosity=0,
        interactive=False,
        reset_sequences=False,
        allow_cascade=False,
        inhibit_post_migrate=True,
    )

    with connection.cursor() as cursor:
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows[table] = cursor.fetchone()[0]
    assert {table: count for table, count in rows.items() if count} == {}
    assert len(tables) > 50
