"""Rows looked up by many keys at once on Postgres, each key one probe of an index, whatever the statistics.

As `kind = … AND value IN (…)` the planner chooses how to read, and under statistics older than the table
(never analyzed, autovacuum behind) it read identities by the unique index's (workspace, kind) prefix and
filtered every value: all of a workspace's anonymous ids, per request (bench/ANALYSIS.md). Here each key is a
LATERAL subquery that OFFSET 0 keeps apart, every column of the key an equality, so the index on
(workspace, key columns) answers it, provided no index on the workspace alone is there to be chosen instead (one
was, Django's own for the foreign key: tests/test_indexes.py keeps such indexes out). The keys travel as one
text array per column, so the statement's text is fixed: psycopg parses it once, and Postgres prepares it.
"""

import functools
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def rows_by_keys(
    model: type[Model], *, workspace_id: int, key_columns: Sequence[str], keys: Sequence[tuple[str, ...]],
    columns: Sequence[str] = (),
) -> list[tuple]:  # fmt: skip
    """(key columns…, columns…) of the workspace's rows of `model` whose key columns equal one of `keys` (strings)."""
    if not keys:
        return []
    sql = _statement(model, tuple(key_columns), tuple(columns))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(list(values) for values in zip(*keys, strict=True)), workspace_id])
        return cursor.fetchall()


@functools.cache
def _statement(model: type[Model], key_columns: tuple[str, ...], columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    keys = ", ".join(quote(column) for column in key_columns)
    match = " AND ".join(f"{quote(column)} = key.{quote(column)}" for column in key_columns)
    selected = [f"key.{quote(column)}" for column in key_columns] + [f"hit.{quote(column)}" for column in columns]
    return (
        f"SELECT {', '.join(selected)} "  # noqa: S608 - quoted names from the model, values as parameters
        f"FROM unnest({', '.join(['%s::text[]'] * len(key_columns))}) AS key ({keys}) CROSS JOIN LATERAL ("
        f"SELECT {', '.join(quote(column) for column in columns) or '1'} FROM {quote(model._meta.db_table)} "
        f"WHERE workspace_id = %s AND {match} OFFSET 0) AS hit"
    )
