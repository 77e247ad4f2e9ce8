"""PostgreSQL as Django has it, but a test database is emptied with DELETE, not TRUNCATE.

After every transactional test (live_server, browser, worker and attack tests) Django
flushes the test database. On PostgreSQL that is one TRUNCATE of every table, which gives
each of the ~70 tables, their indexes and TOAST tables new files and syncs them at commit:
2.4-2.8 s on the 2-core machine with nearly empty tables, against 0.08 s for a DELETE of
each table. The tables a test leaves hold a few rows, so DELETE is the cheap way here.
Django's foreign keys on PostgreSQL are DEFERRABLE INITIALLY DEFERRED, and the flush runs
in one transaction (execute_sql_flush), so the order of the DELETEs does not matter.
Sequences and CASCADE (reset_sequences, allow_cascade) still go through TRUNCATE.
config/settings/test.py names this engine for PostgreSQL test databases.

The content types and permissions stay: one row per model and per model permission,
written by migrate's post_migrate handlers from the models, the same for every test.
Deleting them made the post_migrate signal that follows each flush insert all 320 (64
content types, 256 permissions) again. That signal still runs and adds any a test
removed; with the rows kept it only reads: 167 -> 133 queries a flush, 57 -> 41 ms of
the test process's CPU and 28 -> 12 ms of its PostgreSQL backend's (medians of 3 runs
of 10 flushes). Their ids stay put. tests/core/test_test_database.py checks both: every
other table empty, these rows unchanged and exactly the models'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.postgresql import base, operations

# Filled by migrate (post_migrate) from the models, not by tests (see above).
KEPT_TABLES = frozenset({"django_content_type", "auth_permission"})


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self,
        style: Any,
        tables: Sequence[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if not tables or reset_sequences or allow_cascade:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
            if table not in KEPT_TABLES
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
