"""Postgres query plans for tests that prove a query cannot turn into a scan, whatever the statistics say."""

import pytest
from django.db import connection


def query_plan(sql: str, *, analyze: bool = False) -> str:
    """The plan of one statement (as Django captured it, parameters inlined), as text. `analyze` runs it."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'ANALYZE ' if analyze else ''}{sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def skip_unless_prepared_statements() -> None:
    """Skip a test of Postgres's prepared statements where there are none (SQLite, DATABASE_PREPARE_THRESHOLD=0)."""
    if connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get("prepare_threshold"):
        pytest.skip("Postgres's prepared statements (on unless DATABASE_PREPARE_THRESHOLD=0)")


def prepared_generic_plan(fragment: str) -> str:
    """The generic plan of the statement this connection has prepared whose text contains `fragment`: the plan
    Postgres may keep for every later run, whatever the parameters (config/settings.py: prepare_threshold), so
    a parameter's value cannot be what makes it use an index. Call inside a transaction (a test's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, cardinality(parameter_types) FROM pg_prepared_statements WHERE strpos(statement, %s) > 0",
            [fragment],
        )
        found = cursor.fetchall()
        assert len(found) == 1, f"{len(found)} prepared statements contain {fragment!r}"
        name, count = found[0]
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"EXPLAIN EXECUTE {name}({', '.join(['NULL'] * count)})")
        return "\n".join(row[0] for row in cursor.fetchall())
