"""Ingest must not grow an N+1: resolution costs a fixed number of queries per anonymous batch.

(SQLite splits a large INSERT into chunks of its variable limit; Postgres sends one statement.)
"""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forwarding.models import Delivery
from identities.models import Identity, Person
from identities.tests.lookups import live_people
from tests.plans import query_plan
from tracking.services import tracking_plan_ensure_default

PEOPLE_READ = 'SELECT "identities_person"'


def anonymous_batch(size: int, prefix: str) -> list[dict]:
    return [
        {"type": "track", "event": "product_viewed", "anonymousId": f"{prefix}-{index}", "properties": {"n": index}}
        for index in range(size)
    ]


def test_it_resolves_an_anonymous_batch_of_new_visitors_in_bounded_queries(
    api, workspace, django_assert_max_num_queries
):
    tracking_plan_ensure_default(workspace=workspace)  # once per workspace; tracking/tests counts it
    # + forwarding: outbox insert; + tracking: types (and wider rows: one more INSERT chunk on SQLite)
    # + privacy: the suppression list
    with django_assert_max_num_queries(15):
        response = api.post("/v1/batch", {"batch": anonymous_batch(100, "new")}, format="json")
    assert response.status_code == 200
    assert live_people(workspace).count() == 100
    assert Identity.objects.filter(workspace=workspace).count() == 100


def test_the_people_a_batch_creates_are_not_read_back(api, workspace):
    """Forwarding plans with the people resolution created; only people who existed before are read."""
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/v1/batch", {"batch": anonymous_batch(20, "new")}, format="json")
    assert response.status_code == 200
    reads = [query["sql"] for query in captured.captured_queries if query["sql"].startswith(PEOPLE_READ)]
    assert reads == []
    assert Delivery.objects.filter(workspace=workspace).count() == 20

    with CaptureQueriesContext(connection) as captured:
        api.post("/v1/batch", {"batch": anonymous_batch(20, "new")}, format="json")
    assert len([query for query in captured.captured_queries if query["sql"].startswith(PEOPLE_READ)]) == 1


def test_it_resolves_an_anonymous_batch_of_known_visitors_in_bounded_queries(
    api, workspace, django_assert_max_num_queries
):
    api.post("/v1/batch", {"batch": anonymous_batch(100, "known")}, format="json")
    # + forwarding: people, outbox insert; + tracking: plan, types (and wider rows: one more INSERT chunk on SQLite)
    # + privacy: the suppression list
    with django_assert_max_num_queries(18):
        response = api.post("/v1/batch", {"batch": anonymous_batch(100, "known")}, format="json")
    assert response.status_code == 200
    assert live_people(workspace).count() == 100


def test_moving_last_seen_forward_compares_only_the_batchs_people_even_on_a_table_never_analyzed(api, workspace):
    # Without statistics, the UPDATE … FROM (VALUES …) was planned as a nested loop over every person,
    # each compared with every value: 12 ms for 20 people among 2,500 (bench/ANALYSIS.md).
    if connection.vendor != "postgresql":
        pytest.skip("a Postgres query plan")
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    people = Person.objects.bulk_create(
        Person(workspace=workspace, customer_id=f"c-{n}", first_seen=seen, last_seen=seen) for n in range(2_500)
    )
    Identity.objects.bulk_create(
        Identity(workspace=workspace, kind=Identity.Kind.USER_ID, value=person.customer_id, person=person)
        for person in people[:20]
    )
    batch = [{"type": "track", "event": "viewed", "userId": f"c-{n}"} for n in range(20)]
    with CaptureQueriesContext(connection) as queries:
        assert api.post("/v1/batch", {"batch": batch}, format="json").status_code == 200
    assert Person.objects.filter(last_seen__gt=seen).count() == 20
    (update,) = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("UPDATE")]
    plan = query_plan(update, analyze=True)  # runs it again: nothing left to move
    compared = [int(count) for count in re.findall(r"Rows Removed by (?:Join )?Filter: (\d+)", plan)]
    assert sum(compared) <= 2_500 + 20 * 20, plan  # one pass over the table at most, then the batch


def test_looking_up_a_batchs_identities_probes_each_one_even_on_a_table_never_analyzed(api, workspace):
    # Without statistics, `kind = 'anonymous_id' AND value IN (…)` was planned as the unique index's
    # (workspace, kind) prefix with every value a filter: each request read all of the workspace's anonymous
    # ids (8 ms per single message with 30,000 of them under the benchmark's load; bench/ANALYSIS.md).
    if connection.vendor != "postgresql":
        pytest.skip("a Postgres query plan")
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    people = Person.objects.bulk_create(
        Person(workspace=workspace, first_seen=seen, last_seen=seen) for _ in range(3_000)
    )
    Identity.objects.bulk_create(
        Identity(workspace=workspace, kind=Identity.Kind.ANONYMOUS_ID, value=f"old-{n}", person=person)
        for n, person in enumerate(people)
    )
    batch = [*anonymous_batch(8, "new"), *anonymous_batch(2, "old")]
    with CaptureQueriesContext(connection) as queries:
        assert api.post("/v1/batch", {"batch": batch}, format="json").status_code == 200
    (lookup,) = [query["sql"] for query in queries.captured_queries if "identities_identity" in query["sql"]
                 and query["sql"].startswith("SELECT") and "person_id" in query["sql"]]  # fmt: skip
    plan = query_plan(lookup, analyze=True)
    removed = [int(count) for count in re.findall(r"Rows Removed by (?:Join )?Filter: (\d+)", plan)]
    read = [int(rows) for rows in re.findall(r"Index (?:Only )?Scan .*actual time=\S+ rows=(\d+)", plan)]
    assert sum(removed) == 0 and read and max(read) <= 10, plan
