"""lib/probes.py: rows by many keys, each key one index probe (Postgres only; SQLite callers use the ORM)."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from identities.models import Identity, Person
from workspaces.services import workspace_ensure

pytestmark = pytest.mark.django_db


def test_it_answers_each_key_that_has_rows_in_the_workspace_and_no_other(workspace):
    if connection.vendor != "postgresql":
        pytest.skip("a Postgres statement")
    from lib.probes import rows_by_keys

    other, _ = workspace_ensure(name="Other")
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    ada, bob, elsewhere = (Person.objects.create(workspace=ws, first_seen=seen, last_seen=seen)
                           for ws in (workspace, workspace, other))  # fmt: skip
    Identity.objects.create(workspace=workspace, kind="user_id", value="ada", person=ada)
    Identity.objects.create(workspace=workspace, kind="anonymous_id", value="ada", person=bob)
    Identity.objects.create(workspace=other, kind="user_id", value="bob", person=elsewhere)

    rows = rows_by_keys(
        Identity, workspace_id=workspace.pk, key_columns=("kind", "value"),
        keys=[("user_id", "ada"), ("anonymous_id", "ada"), ("user_id", "bob"), ("email", "ada")],
        columns=("person_id",),
    )  # fmt: skip
    assert sorted(rows) == sorted([("user_id", "ada", ada.pk), ("anonymous_id", "ada", bob.pk)])
    assert rows_by_keys(Identity, workspace_id=workspace.pk, key_columns=("value",), keys=[("ada",)]) == [
        ("ada",),
        ("ada",),
    ]
    assert rows_by_keys(Identity, workspace_id=workspace.pk, key_columns=("value",), keys=[]) == []
