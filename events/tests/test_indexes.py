"""The event table carries only the indexes its reads need: each one is written on every stored event."""

import pytest
from django.db import connection

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
