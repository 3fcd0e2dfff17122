"""Sending the outbox to the emulated Customer.io over real HTTP, in-process (no worker)."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forwarding.models import Delivery, DeliveryAttempt
from forwarding.selectors import delivery_oldest_pending_id, workspaces_with_due_deliveries
from forwarding.services import (
    deliveries_release_stuck,
    deliveries_replay,
    deliveries_send,
    delivery_claim_batch,
)
from tests.plans import query_plan
from workspaces.models import Workspace
from workspaces.services import workspace_ensure

SHOPPER = [
    ("/v1/page", {"anonymousId": "a-1", "name": "Home", "properties": {"url": "https://shop.example/"}}),
    ("/v1/track", {"anonymousId": "a-1", "event": "product_viewed", "properties": {"product_id": "p-1"}}),
    ("/v1/track", {"anonymousId": "a-1", "event": "added_to_cart", "properties": {"cart_id": "c-1"}}),
    ("/v1/identify", {"userId": "u-1", "anonymousId": "a-1", "traits": {"email": "ada@example.com"}}),
    (
        "/v1/track",
        {"userId": "u-1", "anonymousId": "a-1", "event": "order_completed", "properties": {"order_id": "o-1"}},
    ),
]


def ingest(api, messages):
    for path, message in messages:
        assert api.post(path, message, format="json").status_code == 200


def drain(workspace, rounds: int = 10):
    for _ in range(rounds):
        deliveries_send(workspace=workspace, time_budget=5)
        if not Delivery.objects.filter(state__in=["pending", "sending"]).exists():
            return
    raise AssertionError("deliveries still open after draining")


def event_ids(person: dict) -> list[str]:
    return sorted(event["id"] for event in person["events"])


def test_a_shoppers_journey_arrives_with_anonymous_history_attached(api, workspace, emulator):
    ingest(api, SHOPPER)
    drain(workspace)

    person = emulator.person("u-1")
    assert person["email"] == "ada@example.com"
    assert "a-1" in person["anonymous_ids"]
    names = sorted(event["name"] for event in person["events"])
    assert names == ["added_to_cart", "https://shop.example/", "order_completed", "product_viewed"]
    assert Delivery.objects.filter(state="delivered").count() == Delivery.objects.count() == 5
    assert emulator.get("stats")["duplicates_ignored"] == 0


def test_the_identify_waits_for_the_anonymous_events_it_absorbs(api, workspace, emulator):
    ingest(api, SHOPPER)
    drain(workspace)
    paths = [(request["method"], request["path"]) for request in emulator.requests()]
    identify_at = paths.index(("PUT", "/api/v1/customers/u-1"))
    anonymous_at = [i for i, path in enumerate(paths) if path == ("POST", "/api/v1/events")]
    assert len(anonymous_at) == 3 and max(anonymous_at) < identify_at
    assert paths[-1] == ("POST", "/api/v2/batch")  # the order, after the identify


def test_known_person_events_share_v2_batches(api, workspace, emulator):
    ingest(api, [("/v1/identify", {"userId": "u-1"})])
    drain(workspace)
    batch = [{"type": "track", "userId": "u-1", "event": f"e{i}", "messageId": f"m{i}"} for i in range(250)]
    assert api.post("/v1/batch", {"batch": batch}, format="json").status_code == 200
    drain(workspace)
    batches = [r for r in emulator.requests() if r["path"] == "/api/v2/batch"]
    assert len(batches) == 1 and len(batches[0]["body"]["batch"]) == 250
    assert len(emulator.person("u-1")["events"]) == 250


def test_sending_a_full_batch_takes_a_few_queries_not_one_per_delivery(api, workspace, emulator):
    ingest(api, [("/v1/identify", {"userId": "u-1"})])
    drain(workspace)
    batch = [{"type": "track", "userId": "u-1", "event": f"e{i}", "messageId": f"m{i}"} for i in range(250)]
    assert api.post("/v1/batch", {"batch": batch}, format="json").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        report = deliveries_send(workspace=workspace, time_budget=5)
    # The claim reads only what sending needs: touching a field it left out would cost a query per delivery.
    assert report.delivered == 250 and report.requests == 1
    assert len(queries) < 15, [query["sql"][:80] for query in queries]


def test_server_errors_are_retried_and_delivered_exactly_once(api, workspace, emulator):
    ingest(api, SHOPPER)
    emulator.faults(error_rate=1.0, error_statuses=[503])
    report = deliveries_send(workspace=workspace, time_budget=5)
    assert report.retrying > 0 and report.delivered == 0
    retrying = Delivery.objects.filter(state="pending", attempts=1)
    assert retrying.exists()
    assert all(d.last_status_code == 503 for d in retrying)

    emulator.faults()
    Delivery.objects.update(next_attempt_at=timezone.now())
    drain(workspace)
    assert event_ids(emulator.person("u-1")) == sorted(
        Delivery.objects.exclude(kind="identify").values_list("event_id", flat=True)
    )
    assert emulator.get("stats")["duplicates_ignored"] == 0


def test_a_429_with_retry_after_is_honoured(api, workspace, emulator):
    ingest(api, SHOPPER[:1])
    emulator.faults(rate_429=1.0, retry_after=30)
    before = timezone.now()
    deliveries_send(workspace=workspace, time_budget=5)
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.last_status_code == 429
    assert timedelta(seconds=29) <= delivery.next_attempt_at - before <= timedelta(seconds=32)


def test_an_outage_and_timeouts_are_retried(api, workspace, emulator, settings):
    ingest(api, SHOPPER[:2])
    emulator.faults(outage=True)
    deliveries_send(workspace=workspace, time_budget=5)
    assert set(Delivery.objects.values_list("state", "last_status_code")) == {("pending", 503)}
    emulator.faults()
    Delivery.objects.update(next_attempt_at=timezone.now())
    drain(workspace)
    assert Delivery.objects.filter(state="delivered").count() == 2


def test_a_later_operation_waits_while_an_earlier_one_of_the_person_is_failing(api, workspace, emulator):
    ingest(api, [("/v1/identify", {"userId": "u-1"})])
    emulator.faults(error_rate=1.0, error_statuses=[500])
    deliveries_send(workspace=workspace, time_budget=5)
    ingest(api, [("/v1/track", {"userId": "u-1", "event": "order_completed"})])
    emulator.faults()
    Delivery.objects.filter(kind="identify").update(next_attempt_at=timezone.now() + timedelta(hours=1))
    deliveries_send(workspace=workspace, time_budget=5)
    assert Delivery.objects.get(kind="event").state == "pending"  # held behind the failing identify
    assert not any(r["path"] == "/api/v2/batch" for r in emulator.requests())

    Delivery.objects.update(next_attempt_at=timezone.now())
    drain(workspace)
    paths = [r["path"] for r in emulator.requests() if r["status"] == 200]
    assert paths == ["/api/v1/customers/u-1", "/api/v2/batch"]


def test_the_claim_starts_at_the_oldest_pending_delivery_past_the_delivered_ones(api, workspace, emulator):
    ingest(api, [("/v1/identify", {"userId": f"u-{n}"}) for n in range(3)])
    drain(workspace)  # delivered history before everything below
    ingest(api, [("/v1/track", {"userId": "u-0", "event": "a"}), ("/v1/track", {"userId": "u-1", "event": "b"})])
    retrying = Delivery.objects.get(event__name="a")
    Delivery.objects.filter(pk=retrying.pk).update(attempts=1, next_attempt_at=timezone.now() + timedelta(hours=1))
    ingest(api, [("/v1/track", {"userId": "u-0", "event": "c"}), ("/v1/track", {"userId": "u-2", "event": "d"})])

    claimed = delivery_claim_batch(workspace=workspace, limit=10)
    # The oldest pending row is not due; behind it, u-0's next event waits for it, the others go.
    assert [delivery.event.name for delivery in claimed] == ["b", "d"]
    assert set(Delivery.objects.filter(state="sending").values_list("event__name", flat=True)) == {"b", "d"}


def test_the_oldest_pending_lookup_cannot_walk_the_primary_key(api, workspace):
    if connection.vendor != "postgresql":
        pytest.skip("a Postgres query plan")
    ingest(api, [("/v1/identify", {"userId": f"u-{n}"}) for n in range(3)])
    oldest = Delivery.objects.filter(workspace=workspace, state="pending").order_by("pk").first()
    assert delivery_oldest_pending_id(workspace) == oldest.pk
    with transaction.atomic(), connection.cursor() as cursor:
        # Without the partial index, and with sorting made as dear as the planner can make it, the lookup
        # must still sort: no order of the primary key answers it, so no statistics can make the planner
        # prefer walking it (it did: bench/ANALYSIS.md).
        cursor.execute("DROP INDEX delivery_pending_idx")
        cursor.execute("SET LOCAL enable_sort = off")
        with CaptureQueriesContext(connection) as queries:
            delivery_oldest_pending_id(workspace)
        plan = query_plan(queries[0]["sql"])
        transaction.set_rollback(True)
    assert "forwarding_delivery_pkey" not in plan and "Sort" in plan, plan


def test_a_full_claim_asks_for_another_sender(api, workspace, emulator, settings):
    settings.SEAM_DELIVERY_CLAIM_SIZE = 2
    ingest(api, [("/v1/track", {"userId": "u-1", "event": f"e{n}"}) for n in range(5)])
    backlog = []
    deliveries_send(workspace=workspace, time_budget=5, on_backlog=lambda: backlog.append(1))
    assert len(backlog) == 2  # claims of 2, 2, then 1: the last one was not full
    assert Delivery.objects.filter(state="delivered").count() == 5


def test_a_207_fails_only_the_refused_operations(api, workspace, emulator):
    ingest(api, [("/v1/identify", {"userId": "u-1"})])
    drain(workspace)
    ingest(api, [("/v1/track", {"userId": "u-1", "event": f"e{i}"}) for i in range(3)])
    bad = Delivery.objects.filter(kind="event").order_by("pk")[1]
    bad.request["op"]["identifiers"] = {"phone": "+15550100"}  # refused by Customer.io unless enabled
    bad.save()
    drain(workspace)
    states = list(Delivery.objects.filter(kind="event").order_by("pk").values_list("state", flat=True))
    assert states == ["delivered", "failed", "delivered"]
    bad.refresh_from_db()
    assert bad.last_status_code == 207 and bad.last_error


def test_a_4xx_fails_at_once_with_the_response_kept(api, workspace, emulator):
    workspace.track_api_key = "wrong"
    workspace.save()
    ingest(api, SHOPPER[:1])
    deliveries_send(workspace=workspace, time_budget=5)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status_code, delivery.attempts) == ("failed", 401, 1)
    assert "Unauthorized" in delivery.last_error
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 401 and attempt.response_body


def test_a_delivery_dies_only_after_enough_attempts_and_time(api, workspace, emulator, settings):
    settings.SEAM_DELIVERY_MAX_ATTEMPTS = 2
    settings.SEAM_DELIVERY_DEAD_AFTER_SECONDS = 60
    ingest(api, SHOPPER[:1])
    emulator.faults(error_rate=1.0, error_statuses=[500])
    for _ in range(3):
        Delivery.objects.update(next_attempt_at=timezone.now())
        deliveries_send(workspace=workspace, time_budget=5)
    assert Delivery.objects.get().state == "pending"  # enough attempts, but not yet a minute old
    Delivery.objects.update(next_attempt_at=timezone.now(), created_at=timezone.now() - timedelta(minutes=2))
    deliveries_send(workspace=workspace, time_budget=5)
    delivery = Delivery.objects.get()
    assert delivery.state == "dead" and delivery.attempts == 4
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 4


def test_deleting_a_workspace_takes_its_attempts_with_it(api, workspace, emulator):
    # Attempts have no database constraint on their delivery (recording them stays cheap): Django's
    # CASCADE is what removes them, and this shows it does.
    ingest(api, SHOPPER)
    drain(workspace)
    assert DeliveryAttempt.objects.count() == 5
    workspace.delete()
    assert DeliveryAttempt.objects.count() == Delivery.objects.count() == 0


def test_dead_and_failed_deliveries_can_be_replayed(api, workspace, emulator):
    ingest(api, SHOPPER[:2])
    Delivery.objects.update(state="dead", attempts=12)
    assert deliveries_replay(deliveries=Delivery.objects.all()) == 2
    drain(workspace)
    assert Delivery.objects.filter(state="delivered").count() == 2


def test_a_paused_workspace_holds_its_deliveries(api, workspace, emulator):
    workspace.forwarding_paused = True
    workspace.save()
    ingest(api, SHOPPER[:2])
    deliveries_send(workspace=workspace, time_budget=2)
    assert Delivery.objects.filter(state="pending").count() == 2
    assert emulator.requests() == []


def test_dry_run_records_what_would_be_sent(api, workspace, emulator):
    workspace.forwarding_dry_run = True
    workspace.save()
    ingest(api, SHOPPER)
    drain(workspace)
    assert set(Delivery.objects.values_list("state", flat=True)) == {"dry_run"}
    assert emulator.requests() == []


def test_a_claim_left_by_a_dead_worker_is_sent_again(api, workspace, emulator, settings):
    ingest(api, SHOPPER[:1])
    Delivery.objects.update(state="sending", claimed_at=timezone.now() - timedelta(minutes=10))
    assert deliveries_release_stuck() == 1
    drain(workspace)
    assert Delivery.objects.get().state == "delivered"


@pytest.mark.parametrize("status", [400])
def test_a_batch_refused_whole_is_split_to_find_the_bad_operation(api, workspace, emulator, status):
    ingest(api, [("/v1/identify", {"userId": "u-1"})])
    drain(workspace)
    ingest(api, [("/v1/track", {"userId": "u-1", "event": f"e{i}"}) for i in range(3)])
    bad = Delivery.objects.filter(kind="event").order_by("pk")[2]
    bad.request["op"]["timestamp"] = 1.5  # a float timestamp: refused outright
    bad.save()
    drain(workspace)
    states = list(Delivery.objects.filter(kind="event").order_by("pk").values_list("state", flat=True))
    assert states.count("delivered") == 2 and states.count("failed") == 1


def test_a_merge_reaches_customer_io_after_both_people_exist(api, workspace, emulator):
    from identities.models import Person
    from identities.services import person_merge

    ingest(api, [("/v1/identify", {"userId": "u-1"}), ("/v1/track", {"userId": "u-1", "event": "first"})])
    ingest(api, [("/v1/identify", {"userId": "u-2"}), ("/v1/track", {"userId": "u-2", "event": "second"})])
    survivor, merged_away = (Person.objects.get(customer_id=cid) for cid in ("u-1", "u-2"))
    person_merge(survivor=survivor, merged_away=merged_away)
    drain(workspace)

    assert emulator.person("u-2") is None  # Customer.io deletes the secondary
    assert sorted(event["name"] for event in emulator.person("u-1")["events"]) == ["first", "second"]
    assert emulator.get("notes", kind="merge_ignored_primary_missing")["notes"] == []


def test_the_admin_replays_a_dead_delivery(api, workspace, emulator, admin_client):
    ingest(api, SHOPPER[:1])
    delivery = Delivery.objects.get()
    Delivery.objects.update(state="dead")
    response = admin_client.post(
        "/admin/forwarding/delivery/", {"action": "replay", "_selected_action": [delivery.pk]}, follow=True
    )
    assert response.status_code == 200
    drain(workspace)
    delivery.refresh_from_db()
    assert delivery.state == "delivered"


def test_the_sweep_finds_each_workspace_with_something_due_in_one_query(api, workspace, django_assert_num_queries):
    ingest(api, [("/v1/identify", {"userId": f"u-{n}"}) for n in range(3)])
    later, _ = workspace_ensure(name="Later")
    paused, _ = workspace_ensure(name="Paused")
    idle, _ = workspace_ensure(name="Idle")
    Workspace.objects.filter(pk=paused.pk).update(forwarding_paused=True)
    for owner, due in ((later, timezone.now() + timedelta(hours=1)), (paused, timezone.now()), (idle, None)):
        Delivery.objects.create(
            workspace=owner,
            lane="p:1",
            kind="event",
            request={},
            state="pending" if due else "delivered",
            next_attempt_at=due or timezone.now(),
            created_at=timezone.now(),
        )
    with django_assert_num_queries(1):
        assert workspaces_with_due_deliveries() == [workspace.pk]


def test_the_sweep_reads_one_due_delivery_per_workspace_however_long_the_backlog(workspace):
    if connection.vendor != "postgresql":
        pytest.skip("a Postgres query plan")
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(workspace=workspace, lane=f"p:{n}", kind="event", request={}, next_attempt_at=now, created_at=now)
        for n in range(2_000)
    )
    with CaptureQueriesContext(connection) as queries:
        assert workspaces_with_due_deliveries() == [workspace.pk]
    plan = query_plan(queries.captured_queries[0]["sql"], analyze=True)
    read = [
        int(rows)
        for line in plan.splitlines()
        if "forwarding_delivery" in line or "delivery_" in line
        for rows in re.findall(r"actual time=\S+ rows=(\d+)", line)
    ]
    assert read and max(read) <= 1, plan  # the sweep asked every pending row (200 ms with 100,000)
