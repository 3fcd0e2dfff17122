"""What is stored but never forwarded: blocked events, duplicate orders, storms, unconfirmed browser orders."""

import re
import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import SERVER_KEY
from events.models import Event
from forwarding.models import Delivery
from tests.plans import query_plan
from tracking.dedup import dedup_key_for
from tracking.models import OrderSeen, PlannedEvent, TrackingPlan
from tracking.selectors import storm_anchors
from tracking.services import orders_release_unconfirmed, tracking_plan_ensure_default, tracking_plan_touch
from tracking.tests.conftest import T0, at
from workspaces.models import Source
from workspaces.services import source_create, workspace_ensure

CART = {"cart_id": "c-1", "product_id": "p-1", "sku": "S-1", "quantity": 2, "price": 14.5, "currency": "USD"}
VIEW = {"product_id": "p-1", "sku": "S-1", "price": 14.5, "currency": "USD", "category": "coffee"}


def order(order_id: object = "o-1") -> dict:
    items = [{"product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 14.5}]
    return {"order_id": order_id, "revenue": 14.5, "currency": "USD", "items": items}


def forwarded(name: str) -> list[Event]:
    """Events of that name with an outbox row, oldest first."""
    return list(Event.objects.filter(name=name, deliveries__isnull=False).order_by("received_at", "id"))


def holds(name: str) -> list[str]:
    return list(Event.objects.filter(name=name).order_by("received_at", "id").values_list("hold", flat=True))


def plan_set(workspace, **fields) -> TrackingPlan:
    plan = tracking_plan_ensure_default(workspace=workspace)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.save()
    tracking_plan_touch(plan=plan)
    return plan


# --- blocked ---------------------------------------------------------------------------------------


def test_a_blocked_event_is_stored_with_its_violations_and_never_reaches_the_outbox(server, workspace):
    plan = tracking_plan_ensure_default(workspace=workspace)
    PlannedEvent.objects.filter(plan=plan, name="checkout_started").update(mode=PlannedEvent.Mode.BLOCK)
    tracking_plan_touch(plan=plan)
    server.track("Checkout Started", {"cart_id": "c-1", "value": "29"})
    event = Event.objects.get(type="track")
    assert (event.name, event.hold) == ("checkout_started", "blocked")
    assert {violation["kind"] for violation in event.violations} == {"wrong_type", "missing_property"}
    assert not Delivery.objects.filter(event__type="track").exists()


def test_unplanned_events_can_be_blocked(server, workspace):
    plan_set(workspace, unplanned_events=TrackingPlan.Unplanned.BLOCK)
    server.track("debug_ping")
    server.track("added_to_cart", CART)
    assert holds("debug_ping") == ["blocked"]
    assert Event.objects.get(name="debug_ping").violations == [{"kind": "unplanned_event", "event": "debug_ping"}]
    assert [event.name for event in forwarded("debug_ping") + forwarded("added_to_cart")] == ["added_to_cart"]


def test_a_blocked_order_does_not_count_as_the_order(server, workspace):
    plan = tracking_plan_ensure_default(workspace=workspace)
    PlannedEvent.objects.filter(plan=plan, name="order_completed").update(mode=PlannedEvent.Mode.BLOCK)
    tracking_plan_touch(plan=plan)
    server.track("order_completed", order())
    assert holds("order_completed") == ["blocked"] and not OrderSeen.objects.exists()


# --- orders ----------------------------------------------------------------------------------------


def test_a_server_order_is_forwarded_once_and_a_repeat_is_a_duplicate(server):
    server.track("order_completed", order(), messageId="m-1")
    server.track("order_completed", order(), messageId="m-2")
    assert holds("order_completed") == ["", "duplicate"]
    assert len(forwarded("order_completed")) == 1
    row = OrderSeen.objects.get()
    assert (row.order_id, row.server_count, row.browser_count) == ("o-1", 2, 0)


def test_a_numeric_order_id_is_the_same_order_as_its_string(server):
    server.track("order_completed", order(1001))
    server.track("order_completed", order("1001"))
    assert holds("order_completed") == ["", "duplicate"]


def test_orders_are_unique_per_workspace_not_per_message(server):
    server.batch(
        {"type": "track", "userId": "u-1", "event": "order_completed", "properties": order("o-1")},
        {"type": "track", "userId": "u-1", "event": "order_completed", "properties": order("o-2")},
        {"type": "track", "userId": "u-2", "event": "Order Completed", "properties": order("o-1")},
    )
    assert holds("order_completed") == ["", "", "duplicate"]


def test_a_browser_order_waits_for_the_server_which_is_forwarded_once(server, browser):
    browser.track("order_completed", order())
    assert holds("order_completed") == ["unconfirmed"] and forwarded("order_completed") == []
    server.track("order_completed", order())
    assert holds("order_completed") == ["duplicate", ""]  # the browser's copy stays held for good
    (sent,) = forwarded("order_completed")
    assert sent.source.kind == "server"
    row = OrderSeen.objects.get()
    assert (row.browser_event_id, row.server_event_id, row.released_at) == (
        Event.objects.get(source__kind="browser").pk,
        sent.pk,
        None,
    )


def test_a_browser_order_after_the_server_one_is_a_duplicate(server, browser):
    server.track("order_completed", order())
    browser.track("order_completed", order())
    browser.track("order_completed", order(), messageId="again")
    assert holds("order_completed") == ["", "duplicate", "duplicate"]
    assert len(forwarded("order_completed")) == 1


def test_a_second_browser_report_before_confirmation_is_a_duplicate(server, browser):
    browser.track("order_completed", order(), messageId="m-1")
    browser.track("order_completed", order(), messageId="m-2")
    assert holds("order_completed") == ["unconfirmed", "duplicate"]
    server.track("order_completed", order())
    assert holds("order_completed") == ["duplicate", "duplicate", ""]


def test_an_unconfirmed_browser_order_is_released_at_the_end_of_the_window(browser, server):
    browser.track("order_completed", order())
    seen_at = OrderSeen.objects.get().browser_seen_at
    window = timedelta(seconds=900)
    assert orders_release_unconfirmed(now=seen_at + window - timedelta(seconds=1)) == 0
    assert forwarded("order_completed") == []
    assert orders_release_unconfirmed(now=seen_at + window) == 1
    assert holds("order_completed") == [""] and len(forwarded("order_completed")) == 1
    assert orders_release_unconfirmed(now=seen_at + window * 2) == 0  # claimed once
    # The server's report, late: Customer.io already heard the purchase.
    server.track("order_completed", order())
    assert holds("order_completed") == ["", "duplicate"] and len(forwarded("order_completed")) == 1
    row = OrderSeen.objects.get()
    assert row.released_at == seen_at + window and row.server_event_id is not None


def test_a_late_server_order_still_wins_if_the_release_has_not_run(browser, server, monkeypatch):
    browser.track("order_completed", order())
    later = timezone.now() + timedelta(minutes=20)
    monkeypatch.setattr(timezone, "now", lambda: later)
    server.track("order_completed", order())
    assert holds("order_completed") == ["duplicate", ""]
    assert orders_release_unconfirmed(now=later) == 0
    assert len(forwarded("order_completed")) == 1


def test_the_release_follows_each_workspace_window(browser, workspace):
    plan_set(workspace, order_confirmation_window_seconds=60)
    browser.track("order_completed", order())
    seen_at = OrderSeen.objects.get().browser_seen_at
    assert orders_release_unconfirmed(now=seen_at + timedelta(seconds=59)) == 0
    assert orders_release_unconfirmed(now=seen_at + timedelta(seconds=60)) == 1


def test_without_a_confirmation_window_a_browser_order_is_forwarded_at_once(browser, server, workspace):
    plan_set(workspace, order_confirmation_window_seconds=0)
    browser.track("order_completed", order())
    server.track("order_completed", order())
    assert holds("order_completed") == ["", "duplicate"]
    assert forwarded("order_completed")[0].source.kind == "browser"


def test_a_released_anonymous_order_goes_to_its_anonymous_person(browser):
    browser.track("order_completed", order(), userId=None, anonymousId="a-1")
    orders_release_unconfirmed(now=timezone.now() + timedelta(hours=1))
    (delivery,) = Delivery.objects.filter(event__name="order_completed")
    assert delivery.kind == "anonymous_event" and delivery.request["body"]["anonymous_id"] == "a-1"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_of_one_order_forward_it_once(live_server, server_source):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs a database with concurrent writers (Postgres)")
    threads, statuses = 8, []
    barrier = threading.Barrier(threads)

    def send(n: int) -> None:
        session = requests.Session()
        message = {"userId": f"u-{n}", "event": "order_completed", "messageId": f"m-{n}", "properties": order()}
        barrier.wait()
        response = session.post(f"{live_server.url}/v1/track", json=message, auth=(SERVER_KEY, ""), timeout=30)
        statuses.append(response.status_code)

    workers = [threading.Thread(target=send, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert statuses == [200] * threads
    assert sorted(holds("order_completed")) == [""] + ["duplicate"] * (threads - 1)
    assert len(forwarded("order_completed")) == 1
    assert OrderSeen.objects.get().server_count == threads


# --- storms ----------------------------------------------------------------------------------------


def test_an_identical_add_at_the_window_edge_is_collapsed_and_one_just_after_is_not(server):
    server.track("added_to_cart", CART, timestamp=at(0))
    server.track("added_to_cart", CART, timestamp=at(10))  # exactly 10 s: inside
    server.track("added_to_cart", CART, timestamp=at(10.001))  # 10.001 s after the first forwarded one
    server.track("added_to_cart", CART, timestamp=at(20.001))  # exactly 10 s after that
    server.track("added_to_cart", CART, timestamp=at(20.002))
    assert holds("added_to_cart") == ["", "storm", "", "storm", ""]
    assert len(forwarded("added_to_cart")) == 3


def test_an_add_with_another_quantity_or_cart_is_not_a_storm(server):
    server.track("added_to_cart", CART, timestamp=at(0))
    server.track("added_to_cart", {**CART, "quantity": 3}, timestamp=at(1))
    server.track("added_to_cart", {**CART, "cart_id": "c-2"}, timestamp=at(2))
    server.track("added_to_cart", {**CART, "product_id": "p-2"}, timestamp=at(3))
    assert holds("added_to_cart") == ["", "", "", ""]


def test_a_storm_within_one_batch_is_collapsed(server):
    message = {"type": "track", "anonymousId": "a-1", "event": "added_to_cart", "properties": CART}
    server.batch(*({**message, "timestamp": at(seconds)} for seconds in (0, 0.2, 0.4)))
    assert holds("added_to_cart") == ["", "storm", "storm"]


def test_a_late_arriving_earlier_duplicate_is_collapsed_too(server):
    server.track("added_to_cart", CART, timestamp=at(8))
    server.track("added_to_cart", CART, timestamp=at(0))
    assert holds("added_to_cart") == ["", "storm"]


def test_repeated_product_views_by_one_person_collapse_but_not_across_people(server, browser):
    browser.track("product_viewed", VIEW, userId=None, anonymousId="a-1", timestamp=at(0))
    browser.track("product_viewed", VIEW, userId=None, anonymousId="a-1", timestamp=at(3))
    browser.track("product_viewed", VIEW, userId=None, anonymousId="a-2", timestamp=at(3))
    browser.track("product_viewed", {**VIEW, "product_id": "p-2"}, userId=None, anonymousId="a-1", timestamp=at(4))
    server.track("product_viewed", VIEW, userId=None, anonymousId="a-1", timestamp=at(9))  # from any source
    browser.track("product_viewed", VIEW, userId=None, anonymousId="a-1", timestamp=at(10.5))
    assert holds("product_viewed") == ["", "storm", "", "", "storm", ""]


def test_the_storm_window_is_a_plan_setting(server, workspace):
    plan_set(workspace, storm_window_seconds=60)
    server.track("added_to_cart", CART, timestamp=at(0))
    server.track("added_to_cart", CART, timestamp=at(59))
    plan_set(workspace, storm_window_seconds=0)
    server.track("added_to_cart", CART, timestamp=at(59.5))
    assert holds("added_to_cart") == ["", "storm", ""]


def test_a_dedup_key_survives_integers_beyond_64_bits():
    fields = {"name": "added_to_cart", "user_id": "u", "anonymous_id": "", "properties": {**CART, "quantity": 2**64}}
    assert dedup_key_for(fields) != dedup_key_for({**fields, "properties": {**CART, "quantity": 2**64 + 1}})


def stored_adds(source, count: int, *, prefix: str) -> None:
    Event.objects.bulk_create(
        Event(
            id=f"{prefix}-{n:05}",
            workspace_id=source.workspace_id,
            source=source,
            type="track",
            name="added_to_cart",
            message_id=f"{prefix}-{n}",
            dedup_key=f"{prefix}-{n:058}",  # as long as a digest
            received_at=T0,
            timestamp=T0,
        )
        for n in range(count)
    )


@pytest.mark.parametrize("statistics", ["none", "older than the workspace"])
def test_the_storm_lookup_reads_only_the_keys_index_whatever_the_statistics(server_source, statistics):
    # With the workspace or a plain time window in the query, the planner took a workspace-led index
    # whenever statistics lagged (a table never analyzed; a workspace newer than the last analyze) and
    # read every event in the window, or of the workspace, once per request.
    if connection.vendor != "postgresql":
        pytest.skip("a Postgres query plan")
    if statistics != "none":
        other, _ = workspace_ensure(name="Older")
        older, _ = source_create(workspace=other, name="older", kind=Source.Kind.SERVER)
        stored_adds(older, 5_000, prefix="old")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE events_event")  # it knows nothing of the workspace's events below
    stored_adds(server_source, 20_000, prefix="new")
    keys = [f"new-{n:058}" for n in range(0, 20_000, 200)]  # 100 keys, as a batch may bring
    window = timedelta(seconds=10)
    with CaptureQueriesContext(connection) as queries:
        spans = dict.fromkeys(keys, (T0 - window, T0 + window))
        anchors = storm_anchors(workspace_id=server_source.workspace_id, spans=spans)
    assert sorted(key for _, key, _ in anchors) == keys
    plan = query_plan(queries.captured_queries[0]["sql"])
    scanned = re.findall(r"(?:Index Scan using|Index Only Scan using|Bitmap Index Scan on|Seq Scan on) (\w+)", plan)
    assert set(scanned) == {"event_dedup_ts_idx"}, plan


def test_the_storm_lookup_finds_only_the_workspaces_own_events(server_source):
    other, _ = workspace_ensure(name="Other")
    elsewhere, _ = source_create(workspace=other, name="elsewhere", kind=Source.Kind.SERVER)
    stored_adds(elsewhere, 3, prefix="same")  # the same keys, at the same time, in another workspace
    spans = {f"same-{0:058}": (T0, T0)}
    assert storm_anchors(workspace_id=server_source.workspace_id, spans=spans) == []
    assert len(storm_anchors(workspace_id=other.pk, spans=spans)) == 1
