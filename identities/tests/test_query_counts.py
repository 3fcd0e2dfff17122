"""Ingest must not grow an N+1: resolution costs a fixed number of queries per anonymous batch.

(SQLite splits a large INSERT into chunks of its variable limit; Postgres sends one statement.)
"""

from identities.models import Identity
from identities.tests.lookups import live_people
from tracking.services import tracking_plan_ensure_default


def anonymous_batch(size: int, prefix: str) -> list[dict]:
    return [
        {"type": "track", "event": "product_viewed", "anonymousId": f"{prefix}-{index}", "properties": {"n": index}}
        for index in range(size)
    ]


def test_it_resolves_an_anonymous_batch_of_new_visitors_in_bounded_queries(
    api, workspace, django_assert_max_num_queries
):
    tracking_plan_ensure_default(workspace=workspace)  # once per workspace; tracking/tests counts it
    # + forwarding: people, outbox insert; + tracking: plan, types (and wider rows: one more INSERT chunk on SQLite)
    # + privacy: the suppression list
    with django_assert_max_num_queries(19):
        response = api.post("/v1/batch", {"batch": anonymous_batch(100, "new")}, format="json")
    assert response.status_code == 200
    assert live_people(workspace).count() == 100
    assert Identity.objects.filter(workspace=workspace).count() == 100


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
