"""Bulk inserts for the ingest hot path: Postgres `COPY` or one plain `INSERT`, and bulk_create elsewhere.

Django 5.2's bulk_create on Postgres binds each column as one array (`INSERT … SELECT * FROM UNNEST(…)`),
and psycopg quotes every element of a text or JSON array in Python: for a batch of 1 KB events that
quoting was a quarter of the request (bench/profile_ingest.py). `COPY` formats rows in psycopg's C
code and is the database's own fastest way in (P1's baseline), so rows are copied into a temporary
table shaped like the model's and moved with one `INSERT … SELECT`, which keeps `ON CONFLICT`.
A few rows (a single message's event and outbox row, or a group commit's few) go in with one `INSERT`
instead, which answers which rows went in by `RETURNING` where bulk_create would need a second query to
find out. Its rows travel as one JSON parameter (`jsonb_populate_recordset`), encoded by orjson in C:
as `VALUES (%s, …), …` psycopg parsed the statement in Python every time (it caches statements of at most
50 parameters) and quoted each value, a sixth of a single message's CPU under a group commit's load.
"""

import functools
import json
import operator
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, models, transaction
from django.db.models import Model
from psycopg.types.json import Jsonb

# Below this many rows, COPY's extra statements (the staging table, the move) cost more than they save.
COPY_FROM_ROWS = 10


def rows_insert(objs: Sequence[Model], *, ignore_conflicts: bool = False) -> set[Any] | None:
    """Insert these unsaved instances of one model, in one transaction.

    With `ignore_conflicts`, a row that breaks a unique constraint is skipped, as with
    bulk_create(ignore_conflicts=True), and the answer is the set of primary keys that went in
    (the instances must carry their primary keys). Without it, the answer is None, and instances
    without a primary key get the one generated for them, as bulk_create leaves them.
    """
    if not objs:
        return set() if ignore_conflicts else None
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        if not ignore_conflicts:
            return None
        return set(model.objects.filter(pk__in=[obj.pk for obj in objs]).values_list("pk", flat=True))

    auto_pk = objs[0].pk is None
    plan = _insert_plan(model, auto_pk=auto_pk, ignore_conflicts=ignore_conflicts)
    returned = _values_insert(plan, objs) if len(objs) < COPY_FROM_ROWS else _copy_insert(plan, objs)
    if auto_pk and not ignore_conflicts:
        # Generated ids rise in the rows' order (both statements insert in it), whatever order RETURNING lists them.
        for obj, pk in zip(objs, sorted(returned), strict=True):
            obj.pk = pk
    for obj in objs:  # as bulk_create leaves them
        obj._state.adding, obj._state.db = False, connection.alias
    return set(returned) if ignore_conflicts else None


def _values_insert(plan: "_InsertPlan", objs: Sequence[Model]) -> list[Any]:
    if plan.as_json is not None:
        rows = [{column: value(obj) for column, value in plan.as_json} for obj in objs]
        statement, params = plan.insert_json, [_jsonb(rows)]
    else:  # a field JSON cannot carry as it is: one placeholder per value
        one_row = f"({', '.join(['%s'] * len(plan.prepare))})"
        statement = f"{plan.insert} {', '.join([one_row] * len(objs))}{plan.returning}"
        params = [prepare(obj) for obj in objs for prepare in plan.prepare]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()] if plan.returning else []


def _copy_insert(plan: "_InsertPlan", objs: Sequence[Model]) -> list[Any]:
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # Asked every time, not remembered: a rolled-back transaction takes a new table with it, and behind
        # a transaction-pooling proxy the next transaction may run on another server connection.
        cursor.execute(plan.create)
        with cursor.cursor.copy(plan.copy) as copy:
            for ordinal, obj in enumerate(objs):
                copy.write_row([*(prepare(obj) for prepare in plan.prepare), ordinal])
        cursor.execute(plan.move)
        return [row[0] for row in cursor.fetchall()] if plan.returning else []


@dataclass(frozen=True, slots=True)
class _InsertPlan:
    create: str  # the connection's staging table, if it has none yet
    copy: str
    move: str
    insert: str  # `INSERT … VALUES` without its rows: for fewer rows than COPY_FROM_ROWS
    insert_json: str  # the same rows as one JSON array of objects, in order
    returning: str  # what follows the rows in both: skip conflicts and return what went in, return new ids, or ""
    prepare: tuple[Callable[[Model], Any], ...]  # one per column: an instance → the value to copy
    as_json: tuple[tuple[str, Callable[[Model], Any]], ...] | None  # column → its JSON value; None: not all can


@functools.cache
def _insert_plan(model: type[Model], *, auto_pk: bool, ignore_conflicts: bool) -> _InsertPlan:
    """The statements and value preparers for one model, worked out once per process."""
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not (auto_pk and field.primary_key)]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    # Named after the columns and their types: after a migration, a connection that outlived it gets a
    # staging table of the new shape instead of copying into its old one.
    shape = zlib.crc32(";".join(f"{field.column} {field.db_type(connection)}" for field in fields).encode())
    staging = quote(f"seam_copy_{meta.db_table}_{shape:08x}")
    returning = f" RETURNING {quote(meta.pk.column)}" if ignore_conflicts or auto_pk else ""
    if ignore_conflicts:
        returning = f" ON CONFLICT DO NOTHING{returning}"
    # Only quoted names from the model go into the statements' text; values travel through COPY.
    # The move empties the staging table in the same statement, so a failure rolls back the copied
    # rows with it and a second insert in the transaction starts empty; `seam_ord` keeps the rows'
    # order, so generated ids rise in it as bulk_create's do (forwarding's per-person order relies on
    # it). ON COMMIT DELETE ROWS truncates the table's pages at commit: autovacuum never visits
    # temporary tables, so the rows the move deleted would otherwise stay as dead pages for the
    # connection's life and every later move would scan them (100 ms per insert after 3,000 inserts).
    return _InsertPlan(
        create=f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {columns}, 0 AS seam_ord FROM {table} WITH NO DATA",
        copy=f"COPY {staging} ({columns}, seam_ord) FROM STDIN",
        move=f"WITH moved AS (DELETE FROM {staging} RETURNING *) "  # noqa: S608
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM moved ORDER BY seam_ord{returning}",
        insert=f"INSERT INTO {table} ({columns}) VALUES",
        insert_json=f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
        f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) WITH ORDINALITY AS seam_row "
        f"ORDER BY seam_row.ordinality{returning}",
        returning=returning,
        prepare=tuple(_preparer(field) for field in fields),
        as_json=_json_values(fields),
    )


def _json_values(fields: list[models.Field]) -> tuple[tuple[str, Callable[[Model], Any]], ...] | None:
    """Each column's value as JSON carries it into jsonb_populate_recordset; None when a field's value needs
    Django's conversion first. JSON's null is SQL NULL for every column, a JSONField's included (as Django
    stores None), and timestamps go as ISO 8601 with their offset."""
    values = []
    for field in fields:
        kind = _value_kind(field)
        if kind == "django":
            return None
        if kind == "now":
            values.append((field.column, lambda obj, field=field: field.pre_save(obj, True)))
        else:
            values.append((field.column, operator.attrgetter(field.attname)))
    return tuple(values)


def _preparer(field: models.Field) -> Callable[[Model], Any]:
    """How a field's value goes into COPY: as bulk_create would send it, without its per-value dispatch.

    Plain columns are copied as they are (psycopg adapts them); JSON is encoded with orjson. Anything
    else (auto_now, custom fields) takes Django's own path.
    """
    kind = _value_kind(field)
    if kind == "json":
        get = operator.attrgetter(field.attname)
        return lambda obj: _jsonb(get(obj))
    if kind == "as_is":
        return operator.attrgetter(field.attname)
    return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)


def _value_kind(field: models.Field) -> str:
    """How a field's value leaves an instance: "json" (a JSONField's value, for orjson), "as_is" (a value psycopg
    and JSON both carry unchanged), "now" (a plain auto_now/auto_now_add timestamp, which pre_save fills) or
    "django" (a field that may convert: its own path)."""
    if type(field) is models.JSONField and field.encoder is None:
        return "json"
    automatic = isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add)
    if automatic:
        return "now" if type(field) is models.DateTimeField else "django"
    return "as_is" if type(field) in _AS_THEY_ARE else "django"


# Exactly these field classes (not subclasses, which may convert): their values need no preparation.
_AS_THEY_ARE = {
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.BooleanField,
    models.DateTimeField,
    models.ForeignKey,
}


def _jsonb(value: Any) -> Jsonb | None:
    if value is None:
        return None  # SQL NULL, as Django stores None in a nullable JSONField
    return Jsonb(value, dumps=_json_dumps)


def _json_dumps(value: Any) -> bytes | str:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        # What orjson refuses (e.g. integers beyond 64 bits), as Django would; timestamps as orjson writes them.
        return json.dumps(value, default=_isoformat)


def _isoformat(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
