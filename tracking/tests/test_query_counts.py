"""The plan on the hot path: read once per request, applied with dict work; de-duplication in fixed queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracking.services import tracking_plan_ensure_default

CART = {"cart_id": "c-1", "quantity": 2, "price": 14.5, "currency": "usd", "sku": "S-1"}
ITEMS = [{"productId": 7, "sku": "S-1", "quantity": 1, "price": 14.5}]


def carts(size: int, prefix: str) -> list[dict]:
    return [
        {
            "type": "track",
            "anonymousId": f"{prefix}-{n}",
            "event": "Added to Cart",
            "properties": {**CART, "cart_id": f"{prefix}-{n}", "productId": n},
        }
        for n in range(size)
    ]


def orders(size: int, prefix: str) -> list[dict]:
    properties = {"revenue": 14.5, "currency": "USD", "items": ITEMS}
    return [
        {
            "type": "track",
            "userId": f"u-{n}",
            "event": "order_completed",
            "properties": {**properties, "orderId": f"{prefix}-{n}"},
        }
        for n in range(size)
    ]


def queries(api, messages: list[dict]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/v1/batch", {"batch": messages}, format="json")
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured.captured_queries]


SOURCE_LOOKUP = 'SELECT "workspaces_source"'


def tracking_queries(sql: list[str]) -> list[str]:
    """The plan's and de-duplication's statements: its tables, the storm look-back and the holds update.

    Not the write key's lookup, which reads the plan's version with the source (test below).

    SQLite splits a large INSERT or bulk UPDATE into chunks of its variable limit (Postgres sends one
    statement): consecutive chunks of one statement count once.
    """
    ours = [
        query
        for query in sql
        if ("tracking_" in query and not query.startswith(SOURCE_LOOKUP))
        or (query.startswith("SELECT") and "dedup_key" in query)  # the storm look-back
        or query.startswith('UPDATE "events_event" SET "hold"')
    ]
    return [query for index, query in enumerate(ours) if index == 0 or query[:80] != ours[index - 1][:80]]


@pytest.mark.parametrize("size", [10, 200])
def test_a_planned_batch_costs_the_same_tracking_queries_whatever_its_size(api, workspace, size):
    tracking_plan_ensure_default(workspace=workspace)
    queries(api, carts(size, "warm"))
    sql = tracking_queries(queries(api, carts(size, "again")))
    # the storm look-back, the property types insert
    assert len(sql) == 2, [query[:120] for query in sql]
    # the same adds again are storms: one more statement holds them all
    sql = tracking_queries(queries(api, carts(size, "again")))
    assert len(sql) == 3, [query[:120] for query in sql]


@pytest.mark.parametrize("size", [10, 200])
def test_a_batch_of_orders_costs_fixed_tracking_queries(api, workspace, size):
    tracking_plan_ensure_default(workspace=workspace)
    queries(api, orders(size, "first"))
    sql = tracking_queries(queries(api, orders(size, "first")[: size // 2] + orders(size // 2, "second")))
    # OrderSeen insert + lock + update, holds update, property types
    assert len(sql) == 5, [query[:120] for query in sql]


def test_the_plan_is_read_with_the_source_and_compiled_only_when_it_changed(api, workspace):
    tracking_plan_ensure_default(workspace=workspace)
    sql = queries(api, carts(5, "a"))
    reads = [query for query in sql if "tracking_trackingplan" in query]
    assert len(reads) == 1 and reads[0].startswith(SOURCE_LOOKUP)
    assert not [query for query in sql if "tracking_plannedevent" in query or "tracking_plannedproperty" in query]


def test_a_request_without_track_events_costs_nothing_for_the_plan(api, workspace):
    sql = queries(api, [{"type": "identify", "userId": "u-1"}, {"type": "page", "userId": "u-1"}])
    assert tracking_queries(sql) == []


def test_a_whole_ingest_request_stays_bounded(api, workspace, django_assert_max_num_queries):
    tracking_plan_ensure_default(workspace=workspace)
    queries(api, carts(100, "warm"))
    # ingest (with the plan's version), resolution and the outbox (16), orders (3), storms with their holds (2),
    # types (1)
    # + privacy: the suppression list (1)
    with django_assert_max_num_queries(24):
        queries(api, carts(30, "warm") + orders(10, "o"))
