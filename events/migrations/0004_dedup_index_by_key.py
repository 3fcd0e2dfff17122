# The storm look-back's index, keyed by dedup_key alone (see Event.Meta and tracking/selectors.py).
# Built before the old one is dropped, concurrently on Postgres so ingest keeps writing meanwhile.

from django.db import migrations, models

OLD = models.Index(
    fields=["workspace", "dedup_key", "timestamp"], condition=~models.Q(dedup_key=""), name="event_ws_dedup_idx"
)
NEW = models.Index(fields=["dedup_key", "timestamp"], condition=~models.Q(dedup_key=""), name="event_dedup_ts_idx")


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


def index_by_key(apps, schema_editor):
    event = apps.get_model("events", "Event")
    schema_editor.add_index(event, NEW, **_concurrently(schema_editor))
    schema_editor.remove_index(event, OLD, **_concurrently(schema_editor))


def index_by_workspace(apps, schema_editor):
    event = apps.get_model("events", "Event")
    schema_editor.add_index(event, OLD, **_concurrently(schema_editor))
    schema_editor.remove_index(event, NEW, **_concurrently(schema_editor))


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
