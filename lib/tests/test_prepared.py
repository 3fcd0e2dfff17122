"""lib/prepared.py against the ORM it stands in for: the same instances, the same relation caches, one query."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from identities.models import IdentityPolicy
from lib.prepared import PreparedQuery
from workspaces.models import Source, Workspace

RELATED = ("workspace", "workspace__identity_policy")


def by_name(name: str):
    return Source.objects.select_related(*RELATED).filter(name=name).order_by()


def fields_of(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture
def builds():
    """A prepared query by source name, counting how often it is compiled."""
    calls = []

    def build(value: str):
        calls.append(threading.current_thread().name)
        return by_name(value)

    return PreparedQuery(build), calls


def test_it_builds_what_the_orm_builds_with_its_related_rows_in_one_query(builds, server_source, workspace):
    IdentityPolicy.objects.create(workspace=workspace, extra_blocked_values="guest-1\n")
    prepared, _ = builds
    expected = by_name("backend").get()
    with CaptureQueriesContext(connection) as captured:
        [source] = prepared.all("backend")
        assert fields_of(source) == fields_of(expected)
        assert fields_of(source.workspace) == fields_of(expected.workspace)
        assert fields_of(source.workspace.identity_policy) == fields_of(expected.workspace.identity_policy)
    assert len(captured) == 1
    assert source._state.db == "default" and not source._state.adding


def test_a_missing_one_to_one_row_is_known_missing_without_another_query(builds, server_source):
    prepared, _ = builds
    [source] = prepared.all("backend")
    with CaptureQueriesContext(connection) as captured, pytest.raises(IdentityPolicy.DoesNotExist):
        source.workspace.identity_policy  # noqa: B018 - the access is the test
    assert len(captured) == 0


def test_it_compiles_once_per_thread_and_reads_the_database_on_every_call(builds, server_source):
    prepared, calls = builds
    assert [source.pk for source in prepared.all("backend")] == [server_source.pk]
    Source.objects.filter(pk=server_source.pk).update(name="renamed")
    assert prepared.all("backend") == []
    assert [source.name for source in prepared.all("renamed")] == ["renamed"]
    assert len(calls) == 1

    other = threading.Thread(target=prepared.all, args=("backend",), name="other")
    other.start()
    other.join()
    assert calls == [calls[0], "other"]


def test_a_value_that_is_not_one_sql_parameter_is_refused(db):
    with pytest.raises(ValueError, match="exactly one SQL parameter"):
        PreparedQuery(lambda value: Workspace.objects.all()).all("x")
    with pytest.raises(ValueError, match="exactly one SQL parameter"):
        PreparedQuery(lambda value: Workspace.objects.filter(name=value) | Workspace.objects.filter(site_id=value)).all(
            "x"
        )
