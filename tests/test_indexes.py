"""No index of Seam's tables is the leading part of another: the longer one answers its look-ups.

A redundant index costs an entry on every insert, and on a table whose statistics lag it is a wrong answer the
planner may choose: with identities never analyzed, the identity probe read a workspace's rows by the
workspace's own index and filtered each key, 1,739 rows per key, not one (bench/ANALYSIS.md). Django gives
every foreign key an index of its own unless told `db_index=False`.
"""

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


def test_no_index_of_seams_tables_is_a_leading_part_of_another():
    if connection.vendor != "postgresql":
        pytest.skip("reads Postgres's catalog")
    tables = [
        model._meta.db_table
        for config in apps.get_app_configs()
        if config.path.startswith(str(settings.BASE_DIR)) and "/.venv/" not in config.path
        for model in config.get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH idx AS (
                SELECT i.indrelid::regclass::text AS tbl, c.relname AS name, i.indkey::text AS cols,
                       i.indisunique AS uniq, pg_get_indexdef(i.indexrelid) AS def
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indpred IS NULL AND i.indrelid::regclass::text = ANY(%s)
            )
            SELECT a.tbl, a.name, b.name FROM idx a JOIN idx b ON a.tbl = b.tbl AND a.name <> b.name
            WHERE NOT a.uniq AND (b.cols = a.cols OR b.cols LIKE a.cols || ' %%')
              AND a.def NOT LIKE '%%pattern_ops%%' AND b.def NOT LIKE '%%pattern_ops%%'
            ORDER BY 1, 2
            """,
            [tables],
        )
        redundant = cursor.fetchall()
    assert len(tables) > 20
    assert redundant == [], "\n".join(f"{table}: {name} leads {longer}" for table, name, longer in redundant)
