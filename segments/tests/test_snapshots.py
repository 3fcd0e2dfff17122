"""Snapshots make each segment a time series; a count that breaks its expectation is a recorded breach."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from segments.definitions import SEGMENTS
from segments.models import SegmentSettings, SegmentSnapshot
from segments.selectors import segment_breaches, segment_series, segments_count_all, segments_latest
from segments.services import segments_snapshot
from segments.tasks import segments_snapshot_workspace_task

H = timedelta(hours=1)
CART = {"cart_id": "c-1", "product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 14.5, "currency": "USD"}


def order(order_id: str) -> dict:
    items = [{"product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 14.5}]
    return {"order_id": order_id, "revenue": 14.5, "currency": "USD", "items": items}


def by_segment(snapshots) -> dict[str, SegmentSnapshot]:
    return {snapshot.segment: snapshot for snapshot in snapshots}


def test_a_snapshot_counts_every_segment_and_marks_breaches(server, workspace, now):
    server.track("order_completed", order("o-1"), messageId="m-1")
    server.track("order_completed", order("o-1"), messageId="m-2")  # S4 expects zero
    server.track("added_to_cart", CART, anonymousId="a-1", ago=H)  # S1 and S3
    snapshots = by_segment(segments_snapshot(workspace=workspace, now=timezone.now()))
    assert set(snapshots) == set(SEGMENTS)
    assert (snapshots["S4"].count, snapshots["S4"].breached, snapshots["S4"].expectation) == (1, True, "zero")
    assert (snapshots["S3"].count, snapshots["S3"].breached) == (1, False)  # informational: never breached
    assert (snapshots["S1"].count, snapshots["S1"].breached) == (1, False)  # nothing to shrink from yet
    assert [snapshot.segment for snapshot in segment_breaches(workspace=workspace)] == ["S4"]


def test_a_should_shrink_segment_is_breached_when_it_grew_over_a_day(server, workspace, now):
    server.track("added_to_cart", {**CART, "cart_id": "c-1"}, anonymousId="a-1", ago=H)
    server.track("added_to_cart", {**CART, "cart_id": "c-2"}, anonymousId="a-2", ago=H)
    SegmentSnapshot.objects.create(
        workspace=workspace, segment="S1", count=1, taken_at=now - timedelta(hours=25), expectation="should_shrink"
    )
    SegmentSnapshot.objects.create(  # newer than a day: not what S1 is compared with
        workspace=workspace, segment="S1", count=5, taken_at=now - H, expectation="should_shrink"
    )
    assert by_segment(segments_snapshot(workspace=workspace, now=now))["S1"].breached
    SegmentSnapshot.objects.create(
        workspace=workspace, segment="S1", count=3, taken_at=now - timedelta(hours=24), expectation="should_shrink"
    )
    assert not by_segment(segments_snapshot(workspace=workspace, now=now))["S1"].breached  # shrank from 3


def test_thresholds_can_be_set_per_workspace(server, workspace, now):
    server.track("order_completed", order("o-1"), messageId="m-1")
    server.track("order_completed", order("o-1"), messageId="m-2")
    SegmentSettings.objects.create(workspace=workspace, thresholds={"S4": 1})
    snapshot = by_segment(segments_snapshot(workspace=workspace, now=timezone.now()))["S4"]
    assert (snapshot.count, snapshot.threshold, snapshot.breached) == (1, 1, False)


def test_snapshots_form_a_series_and_the_latest_is_at_hand(workspace, now):
    for hours in (3, 2, 1):
        segments_snapshot(workspace=workspace, now=now - hours * H)
    series = segment_series(workspace=workspace, key="S6", since=now - timedelta(days=1))
    assert [snapshot.taken_at for snapshot in series] == [now - 3 * H, now - 2 * H, now - H]
    assert segments_latest(workspace=workspace)["S6"].taken_at == now - H


def test_the_beat_task_snapshots_a_workspace(workspace):
    assert "segments-snapshot" in settings.CELERY_BEAT_SCHEDULE
    segments_snapshot_workspace_task(workspace.pk)
    assert SegmentSnapshot.objects.filter(workspace=workspace).count() == len(SEGMENTS)


def shoppers(server, prefix: str, size: int) -> None:
    """A little of everything, for `size` shoppers: carts, orders, drift, shared devices, many anonymous ids."""
    for n in range(size):
        person = f"{prefix}-{n}"
        server.track("added_to_cart", {**CART, "cart_id": person}, anonymousId=f"a-{person}", ago=H)
        server.track("order_completed", order(f"o-{person}"), userId=f"u-{person}", anonymousId=f"a-{person}")
        server.track("order_completed", order(f"o-{person}"), userId=f"u-{person}", messageId=f"again-{person}")
        server.track("added_to_cart", {**CART, "product_id": n, "sku": None}, anonymousId=f"b-{person}")
        server.identify(userId=f"u-{person}", anonymousId=f"shared-{n}", traits={"email": f"{person}@example.com"})
        server.identify(userId=f"v-{person}", anonymousId=f"shared-{n}")
        server.track("added_to_cart", CART, anonymousId=f"old-{person}", ago=timedelta(days=27))
        for k in range(3):
            server.identify(userId=f"u-{person}", anonymousId=f"more-{person}-{k}")


def test_computing_all_segments_costs_the_same_queries_for_few_or_many_people(server, workspace, now):
    SegmentSettings.objects.create(workspace=workspace, max_anonymous_ids=2)
    shoppers(server, "few", 2)
    with CaptureQueriesContext(connection) as few:
        counts_few = segments_count_all(workspace=workspace, now=now)
    shoppers(server, "many", 12)
    with CaptureQueriesContext(connection) as many:
        counts_many = segments_count_all(workspace=workspace, now=now)
    assert all(counts_many[key] > counts_few[key] > 0 for key in ("S1", "S2", "S3", "S4", "S6", "S8", "S9", "S10"))
    assert len(many) == len(few) <= 15


def test_snapshotting_all_segments_is_bounded(server, workspace, now, django_assert_max_num_queries):
    shoppers(server, "s", 5)
    with django_assert_max_num_queries(18):  # the settings, ten counts, two earlier counts, one insert
        segments_snapshot(workspace=workspace, now=now)
