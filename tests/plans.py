"""Postgres query plans for tests that prove a query cannot turn into a scan, whatever the statistics say."""

from django.db import connection


def query_plan(sql: str, *, analyze: bool = False) -> str:
    """The plan of one statement (as Django captured it, parameters inlined), as text. `analyze` runs it."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'ANALYZE ' if analyze else ''}{sql}")
        return "\n".join(row[0] for row in cursor.fetchall())
