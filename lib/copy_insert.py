"""Bulk inserts for the ingest hot path: Postgres `COPY`, and bulk_create everywhere else.

Django 5.2's bulk_create on Postgres binds each column as one array (`INSERT … SELECT * FROM UNNEST(…)`),
and psycopg quotes every element of a text or JSON array in Python: for a batch of 1 KB events that
quoting was a quarter of the request (bench/profile_ingest.py). `COPY` formats rows in psycopg's C
code and is the database's own fastest way in (P1's baseline), so rows are copied into a temporary
table shaped like the model's and moved with one `INSERT … SELECT`, which keeps `ON CONFLICT`.
"""

import zlib
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

# Below this many rows, COPY's extra statements (the staging table, the move) cost more than they save.
COPY_FROM_ROWS = 10


def rows_insert(objs: Sequence[Model], *, ignore_conflicts: bool = False) -> set[Any] | None:
    """Insert these unsaved instances of one model, in one transaction.

    With `ignore_conflicts`, a row that breaks a unique constraint is skipped, as with
    bulk_create(ignore_conflicts=True), and the answer is the set of primary keys that went in
    (the instances must carry their primary keys). Without it, the answer is None.
    """
    if not objs:
        return set() if ignore_conflicts else None
    model = type(objs[0])
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM_ROWS:
        model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        if not ignore_conflicts:
            return None
        return set(model.objects.filter(pk__in=[obj.pk for obj in objs]).values_list("pk", flat=True))

    meta = model._meta
    auto_pk = objs[0].pk is None
    fields = [field for field in meta.concrete_fields if not (auto_pk and field.primary_key)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    # Named after the columns and their types: after a migration, a connection that outlived it gets a
    # staging table of the new shape instead of copying into its old one.
    shape = zlib.crc32(";".join(f"{field.column} {field.db_type(connection)}" for field in fields).encode())
    staging = quote(f"seam_copy_{meta.db_table}_{shape:08x}")
    conflicts = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    returning = f" RETURNING {quote(meta.pk.column)}" if ignore_conflicts else ""
    # Only quoted names from the model go into the statements' text; values travel through COPY.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # One staging table per connection (connections persist), emptied by the move below: the
        # same statement, so a failure rolls back the copied rows with it. `seam_ord` keeps the rows'
        # order, so generated ids rise in it as bulk_create's do (forwarding's per-person order relies on it).
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} "  # noqa: S608
            f"AS SELECT {columns}, 0 AS seam_ord FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({columns}, seam_ord) FROM STDIN") as copy:
            for ordinal, obj in enumerate(objs):
                values = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
                copy.write_row([*values, ordinal])
        cursor.execute(
            f"WITH moved AS (DELETE FROM {staging} RETURNING *) "  # noqa: S608
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM moved ORDER BY seam_ord{conflicts}{returning}"
        )
        inserted = {row[0] for row in cursor.fetchall()} if ignore_conflicts else None
    for obj in objs:  # as bulk_create leaves them
        obj._state.adding, obj._state.db = False, connection.alias
    return inserted
