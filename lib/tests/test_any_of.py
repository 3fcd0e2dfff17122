"""lib/any_of.py: the same rows as `pk__in`, and on Postgres one statement text whatever the number of values."""

import pytest
from django.db import connection

from lib.any_of import pk_any_of
from workspaces.models import Workspace
from workspaces.services import workspace_ensure


@pytest.fixture
def workspaces(db):
    return [workspace_ensure(name=f"Shop {n}")[0] for n in range(4)]


def test_it_selects_updates_and_counts_what_pk_in_does(workspaces):
    ids = [workspaces[0].pk, workspaces[2].pk]
    assert list(Workspace.objects.filter(pk_any_of(ids)).order_by("pk")) == list(
        Workspace.objects.filter(pk__in=ids).order_by("pk")
    )
    assert Workspace.objects.filter(pk_any_of(ids)).update(forwarding_paused=True) == 2
    assert set(Workspace.objects.filter(forwarding_paused=True).values_list("pk", flat=True)) == set(ids)


def test_an_empty_list_selects_and_updates_nothing(workspaces):
    assert list(Workspace.objects.filter(pk_any_of([]))) == []
    assert Workspace.objects.filter(pk_any_of([])).update(forwarding_paused=True) == 0


def test_on_postgres_the_text_does_not_change_with_the_number_of_values(workspaces):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no arrays: it writes IN (…)")
    one, one_params = Workspace.objects.filter(pk_any_of([1])).query.sql_with_params()
    many, many_params = Workspace.objects.filter(pk_any_of(range(500))).query.sql_with_params()
    assert one == many and "= ANY(%s)" in one
    assert (one_params, many_params) == (([1],), ([*range(500)],))
