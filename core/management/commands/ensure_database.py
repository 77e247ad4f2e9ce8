"""Creates the PostgreSQL database named by DATABASE_URL when it does not exist yet."""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql


class Command(BaseCommand):
    help = "Creates the configured PostgreSQL database if it is missing (for make bench)."
    # It runs before migrate, which checks; the checks (every URL pattern and admin
    # class loaded) would double its start for nothing they could find here.
    requires_system_checks: list[str] = []

    def handle(self, *args: str, **options: object) -> None:
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.postgresql":
            return
        try:
            with psycopg.connect(
                host=db["HOST"],
                port=db["PORT"] or 5432,
                user=db["USER"],
                password=db["PASSWORD"] or None,
                dbname="postgres",
                autocommit=True,
                connect_timeout=5,
            ) as connection:
                exists = connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
                ).fetchone()
                if not exists:
                    connection.execute(
                        sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"]))
                    )
                    self.stdout.write(f"Created database {db['NAME']}.")
        except psycopg.OperationalError as error:
            raise CommandError(f"PostgreSQL is not reachable: {error}") from error
