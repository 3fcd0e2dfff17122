"""The event table carries only the indexes its reads need: each one is written on every stored event."""

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection

from events.models import Event

pytestmark = pytest.mark.django_db


def test_every_index_on_the_event_table_is_one_the_model_declares():
    if connection.vendor != "postgresql":
        pytest.skip("Postgres's own indexes (SQLite adds none of its own either)")
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    indexes = {
        name for name, constraint in constraints.items() if not constraint["foreign_key"] and not constraint["check"]
    }
    declared = {index.name for index in Event._meta.indexes} | {
        constraint.name for constraint in Event._meta.constraints
    }
    assert indexes == declared | {"events_event_pkey"}


@pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY runs outside a transaction
def test_the_storm_index_migration_runs_again_after_a_concurrent_build_that_failed(api):
    if connection.vendor != "postgresql":
        pytest.skip("a failed CREATE INDEX CONCURRENTLY is Postgres's")
    migration = importlib.import_module("events.migrations.0004_dedup_index_by_key")
    batch = [
        {"type": "track", "event": "Viewed", "anonymousId": "a"},
        {"type": "track", "event": "Added", "anonymousId": "a"},
    ]
    assert api.post("/v1/batch", {"batch": batch}, format="json").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute('DROP INDEX "event_dedup_ts_idx"')
        # A build that fails half-way, as a cancel or a deadlock would: its index stays behind, INVALID.
        with pytest.raises(IntegrityError):
            cursor.execute('CREATE UNIQUE INDEX CONCURRENTLY "event_dedup_ts_idx" ON "events_event" ("workspace_id")')
    assert _index_valid("event_dedup_ts_idx") is False

    for _ in range(2):  # the failed run's retry, then once more: nothing left to do
        with connection.schema_editor(atomic=False) as schema_editor:
            migration.index_by_key(apps, schema_editor)
        assert _index_valid("event_dedup_ts_idx") is True
        assert _index_valid("event_ws_dedup_idx") is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(to_regclass('event_dedup_ts_idx'))")
        assert '(dedup_key, "timestamp") WHERE' in cursor.fetchone()[0]


def _index_valid(name: str) -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        row = cursor.fetchone()
    return row[0] if row else None
