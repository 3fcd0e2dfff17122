"""Operations that migrations share."""

from django.db import migrations


def foreign_key_indexes_drop(indexes: dict[str, tuple[str, str]]) -> migrations.RunPython:
    """Drop foreign keys' own indexes, {index name: (table, column)}, and re-create them on the way back.

    For a migration that sets `db_index=False` on foreign keys another index leads with: as a
    SeparateDatabaseAndState's database operation it drops only the index, where AlterField would also drop
    and re-create the foreign key, checking every row of the table again.
    """

    def drop(apps, schema_editor):
        for name in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')

    def create(apps, schema_editor):
        for name, (table, column) in indexes.items():
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')

    return migrations.RunPython(drop, create)
