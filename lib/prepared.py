"""A hot-path ORM read compiled to SQL once per thread, for queries whose only variable is one value.

Django compiles a queryset to SQL every time it is evaluated: for ingest's write-key lookup (a source with
its workspace and two one-to-one settings rows, four tables) that was a third of a single message's CPU,
every request, for the same SQL. PreparedQuery compiles the queryset once per thread and keeps Django's own
row-to-instance machinery from that compilation (the compiler's converters, select_related's populators);
each call only substitutes the value, executes, converts the values and builds the instances. Nothing is cached
but the SQL and that machinery: every call reads the database.

Once per thread, because a compiler belongs to its thread's connection.
"""

import threading
import uuid
from collections.abc import Callable

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


class _Compiled:
    """One thread's compilation: the SQL, its parameters with the value's position, and how rows become instances."""

    def __init__(self, queryset: QuerySet, marker: str) -> None:
        if queryset.query.annotations or queryset._known_related_objects or queryset._prefetch_related_lookups:
            raise ValueError("a prepared query builds plain model instances (select_related only)")
        self.db = queryset.db
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = self.compiler.as_sql()  # also fills compiler.select and klass_info
        if self.sql is None or list(params).count(marker) != 1:
            raise ValueError("a prepared query must hold its value as exactly one SQL parameter")
        self.params = list(params)
        self.index = self.params.index(marker)
        klass_info, select = self.compiler.klass_info, self.compiler.select
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.fields = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.populators = get_related_populators(klass_info, select, self.db)
        # What results_iter would work out on every call (a tenth of a millisecond for the write key's 4 tables).
        expressions = [column[0] for column in select[: self.compiler.col_count]]
        if self.compiler.has_composite_fields(expressions):
            raise ValueError("a prepared query reads no composite primary key")
        self.converters = self.compiler.get_converters(expressions)


class PreparedQuery:
    """`build(value)` → the queryset; `PreparedQuery(build).all(value)` is `list(build(value))`, compiled once."""

    def __init__(self, build: Callable[[str], QuerySet]) -> None:
        self._build = build
        self._local = threading.local()

    def all(self, value: str) -> list[Model]:
        compiled = self._compiled()
        params = list(compiled.params)
        params[compiled.index] = value
        with connections[compiled.db].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        instances = []
        for row in rows:
            instance = compiled.model.from_db(compiled.db, compiled.init_list, row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, instance)
            instances.append(instance)
        return instances

    def _compiled(self) -> _Compiled:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            # A marker the SQL can only hold as a parameter: where it lands is where each value goes.
            marker = f"seam-prepared-{uuid.uuid4().hex}"
            compiled = self._local.compiled = _Compiled(self._build(marker), marker)
        return compiled
