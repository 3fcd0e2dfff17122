"""Type drift: one property of one event name arriving with different JSON types."""

from datetime import timedelta

from django.utils import timezone

from events.models import Event
from tracking import services
from tracking.models import PropertyType
from tracking.selectors import property_drift

CART = {"cart_id": "c-1", "product_id": "p-1", "sku": "S-1", "quantity": 2, "price": 14.5, "currency": "USD"}


def types_of(event_name: str, prop: str) -> list[str]:
    return sorted(PropertyType.objects.filter(event_name=event_name, property=prop).values_list("type", flat=True))


def test_it_records_a_numeric_product_id_as_a_number_even_though_it_is_coerced(server, workspace):
    server.track("added_to_cart", CART)
    server.track("added_to_cart", {**CART, "product_id": 1001})
    assert types_of("added_to_cart", "product_id") == ["number", "string"]
    (drift,) = property_drift(workspace=workspace, since=timezone.now() - timedelta(days=7))
    assert (drift.event_name, drift.property, drift.types) == ("added_to_cart", "product_id", ["number", "string"])
    first_string, first_number = Event.objects.order_by("received_at", "id").values_list("pk", flat=True)
    assert drift.first_events == {"string": first_string, "number": first_number}


def test_integers_and_floats_are_one_type(server, workspace):
    server.track("added_to_cart", {**CART, "price": 14})
    server.track("added_to_cart", {**CART, "price": 14.5})
    assert types_of("added_to_cart", "price") == ["number"]
    assert property_drift(workspace=workspace, since=timezone.now() - timedelta(days=7)) == []


def test_it_records_types_inside_items_and_of_unplanned_events(server, workspace):
    item = {"product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 2}
    base = {"order_id": "o-1", "revenue": 2, "currency": "USD"}
    server.track("order_completed", {**base, "items": [item]})
    server.track("order_completed", {**base, "order_id": "o-2", "items": [{**item, "product_id": 7}]})
    server.track("wishlist_added", {"position": 1})
    server.track("wishlist_added", {"position": "1"})
    drifts = property_drift(workspace=workspace, since=timezone.now() - timedelta(days=7))
    assert sorted((drift.event_name, drift.property) for drift in drifts) == [
        ("order_completed", "items[].product_id"),
        ("wishlist_added", "position"),
    ]


def test_a_null_is_not_a_type(server):
    server.track("added_to_cart", {**CART, "sku": None})
    assert types_of("added_to_cart", "sku") == []


def test_drift_counts_only_types_seen_recently_and_a_seen_type_is_refreshed(server, workspace, monkeypatch):
    server.track("added_to_cart", {**CART, "product_id": 1001})
    server.track("added_to_cart", CART)
    long_ago = timezone.now() - timedelta(days=30)
    PropertyType.objects.filter(type="number").update(last_seen_at=long_ago, first_seen_at=long_ago)
    since = timezone.now() - timedelta(days=7)
    assert property_drift(workspace=workspace, since=since) == []
    # Each process looks for stale types every few minutes: pretend the last look was long ago.
    monkeypatch.setitem(services._stale_checked, workspace.pk, long_ago)
    server.track("added_to_cart", {**CART, "product_id": 1002})
    assert PropertyType.objects.get(property="product_id", type="number").last_seen_at > since
    assert len(property_drift(workspace=workspace, since=since)) == 1


def inserts_of_types(queries) -> int:
    sqls = [query["sql"] for query in queries]
    return sum(sql.startswith("INSERT") and 'INTO "tracking_propertytype"' in sql for sql in sqls)


def test_a_process_inserts_a_type_once_it_has_seen_it_committed(server, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as first:
        server.track("added_to_cart", CART)
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as again:
        server.track("added_to_cart", {**CART, "cart_id": "c-2"})
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as drifted:
        server.track("added_to_cart", {**CART, "cart_id": "c-3", "quantity": "2"})
    assert (inserts_of_types(first), inserts_of_types(again), inserts_of_types(drifted)) == (1, 0, 1)
    assert types_of("added_to_cart", "quantity") == ["number", "string"]


def test_types_of_a_batch_that_never_committed_are_inserted_again(server):
    # Without a commit (the callbacks never run), nothing is remembered: the next batch inserts again.
    server.track("added_to_cart", CART)
    PropertyType.objects.all().delete()
    server.track("added_to_cart", {**CART, "cart_id": "c-2"})
    assert types_of("added_to_cart", "price") == ["number"]


def test_a_deleted_type_is_recorded_again_after_the_next_stale_check(
    server, workspace, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        server.track("added_to_cart", CART)
    PropertyType.objects.filter(property="price").delete()  # e.g. an admin clearing drift evidence
    with django_capture_on_commit_callbacks(execute=True):
        server.track("added_to_cart", {**CART, "cart_id": "c-2"})
    assert types_of("added_to_cart", "price") == []  # remembered: not inserted again yet
    monkeypatch.setitem(services._stale_checked, workspace.pk, timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        server.track("added_to_cart", {**CART, "cart_id": "c-3"})  # the stale check forgets what was recorded
    with django_capture_on_commit_callbacks(execute=True):
        server.track("added_to_cart", {**CART, "cart_id": "c-4"})
    assert types_of("added_to_cart", "price") == ["number"]
