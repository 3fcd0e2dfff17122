# The storm look-back's index, keyed by dedup_key alone (see Event.Meta and tracking/selectors.py).
# Built before the old one is dropped, concurrently on Postgres so ingest keeps writing meanwhile.

from django.db import migrations, models

OLD = models.Index(
    fields=["workspace", "dedup_key", "timestamp"], condition=~models.Q(dedup_key=""), name="event_ws_dedup_idx"
)
NEW = models.Index(fields=["dedup_key", "timestamp"], condition=~models.Q(dedup_key=""), name="event_dedup_ts_idx")


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def _index_swap(schema_editor, model, *, build: models.Index, drop: models.Index) -> None:
    """Build one index, then drop the other; safe to run again after a run that failed half-way.

    A CREATE INDEX CONCURRENTLY that fails (a cancel, a deadlock, a lost connection) leaves its index
    behind, INVALID: unused by reads, still written by every insert, and in the way of the next attempt
    ("already exists"). Such a leftover is dropped and built again; a valid one is kept, and an index
    already dropped is not dropped twice.
    """
    state = _index_state(schema_editor, model._meta.db_table, build.name)
    if state == "invalid":
        schema_editor.remove_index(model, build, **_concurrently(schema_editor))
    if state != "valid":
        schema_editor.add_index(model, build, **_concurrently(schema_editor))
    if _index_state(schema_editor, model._meta.db_table, drop.name) is not None:
        schema_editor.remove_index(model, drop, **_concurrently(schema_editor))


def _index_state(schema_editor, table: str, name: str) -> str | None:
    """'valid', 'invalid' (a failed concurrent build's leftover, Postgres only) or None (no such index)."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
        if name not in constraints:
            return None
        if schema_editor.connection.vendor != "postgresql":
            return "valid"
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        return "valid" if cursor.fetchone()[0] else "invalid"


def index_by_key(apps, schema_editor):
    _index_swap(schema_editor, apps.get_model("events", "Event"), build=NEW, drop=OLD)


def index_by_workspace(apps, schema_editor):
    _index_swap(schema_editor, apps.get_model("events", "Event"), build=OLD, drop=NEW)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("events", "0003_lean_indexes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="event", name="event_ws_dedup_idx"),
                migrations.AddIndex(model_name="event", index=NEW),
            ],
            database_operations=[migrations.RunPython(index_by_key, index_by_workspace)],
        ),
    ]
