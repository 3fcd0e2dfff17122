"""`column = ANY(%s)`: a list of values as one array parameter, so a statement's text is the same for 1 id or 500.

`pk__in=ids` writes one placeholder per id. Forwarding marks up to 500 deliveries per statement, each claim a
different count: psycopg parsed every such text anew (its cache stops at long statements), Django prepared every
value, and Postgres could never keep the statement prepared (config/settings.py: prepare_threshold). On Postgres
these helpers send the list as one array; elsewhere (SQLite) they write the usual `IN (…)`.
"""

from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.db.models import F, Lookup


def sql_any_of(column: str, values: Sequence, *, vendor: str) -> tuple[str, list]:
    """SQL and parameters for `column` (quoted SQL) equal to one of `values` (already as the database takes them)."""
    if vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


class AnyOf(Lookup):
    """A filter on a field being one of a list: `queryset.filter(AnyOf(F("pk"), ids))`, or `pk_any_of(ids)`."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet  # as pk__in=[] does: the queryset is empty, an update touches nothing
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection) for value in self.rhs]
        sql, params = sql_any_of(lhs, values, vendor=connection.vendor)
        return sql, [*lhs_params, *params]


def pk_any_of(ids: Sequence) -> AnyOf:
    return AnyOf(F("pk"), list(ids))
