"""The segment and tracking-plan panels, read from segment snapshots and the rollups, and the drill-down."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards.selectors import health_overview
from dashboards.services import health_rollup_refresh
from dashboards.tests.conftest import identify, track
from segments.services import segments_snapshot

pytestmark = pytest.mark.django_db


def ago(days: float = 0, minutes: float = 0) -> str:
    return (timezone.now() - timedelta(days=days, minutes=minutes)).isoformat()


@pytest.fixture
def off_plan(shop):
    """Carts without price and currency, a product_id sent as a number, an unplanned event."""
    for index in range(3):
        shop.send(
            track("added_to_cart", ago(0, 30 + index), anonymousId=f"a-{index}",
                  properties={"cart_id": f"c-{index}", "product_id": "p-1", "sku": "S", "quantity": 1}),
            source="browser",
        )  # fmt: skip
    props = {"product_id": "p-1", "sku": "S", "price": 1.0, "currency": "usd", "category": "Coffee"}
    shop.send(track("product_viewed", ago(0, 20), anonymousId="a-9", properties=props), source="browser")
    shop.send(
        track("product_viewed", ago(0, 10), anonymousId="a-9", properties={**props, "product_id": 17}), source="browser"
    )
    shop.send(track("wishlist_added", ago(0, 5), userId="u-1", properties={"product_id": "p-1"}))
    shop.send(identify(ago(0, 1), userId="u-1", traits={"email": "test@example.com"}))
    return shop


def test_the_plan_panel_counts_violations_by_event_and_property(off_plan, workspace):
    health_rollup_refresh(workspace=workspace)
    plan = health_overview(workspace=workspace, days=7).plan
    by_event = {row.label: row.count for row in plan.by_event}
    assert by_event["added_to_cart"] == 3 and by_event["wishlist_added"] == 1
    by_property = {row.label: row.count for row in plan.by_property}
    assert by_property["added_to_cart.price"] == 3 and by_property["added_to_cart.currency"] == 3
    assert [row.label for row in plan.unplanned] == ["wishlist_added"]
    assert [(d.event_name, d.property) for d in plan.drift] == [("product_viewed", "product_id")]
    assert plan.normalized >= 2  # currency upper-cased, category lower-cased, the number made a string
    assert plan.violating == 4


def test_the_segment_panel_reads_the_latest_snapshot_with_its_trend(off_plan, workspace):
    segments_snapshot(workspace=workspace, now=timezone.now() - timedelta(days=1))
    segments_snapshot(workspace=workspace)
    rows = {row.key: row for row in health_overview(workspace=workspace, days=7).segments}
    assert list(rows) == [f"S{n}" for n in range(1, 11)]
    assert rows["S1"].count == 3 and rows["S1"].unit == "people"
    assert rows["S7"].count == 1 and rows["S7"].status == "breached"
    assert rows["S3"].status == "info"
    assert rows["S8"].count >= 1  # a test email in production
    assert "<polyline" in rows["S1"].spark


def test_the_segment_panel_waits_for_the_first_snapshot(workspace):
    rows = health_overview(workspace=workspace, days=7).segments
    assert {row.status for row in rows} == {"waiting"} and rows[0].count is None


def test_a_marketer_drills_into_a_segments_members(as_user, off_plan, workspace):
    segments_snapshot(workspace=workspace)
    alice = as_user("alice")
    page = alice.get(reverse("dashboards:health", args=[workspace.pk])).content.decode()
    assert reverse("dashboards:segment", args=[workspace.pk, "S1"]) in page
    page = alice.get(reverse("dashboards:segment", args=[workspace.pk, "S1"])).content.decode()
    assert "Carts without an email" in page and page.count("<tr>") == 3 + 1  # header and three people
    assert "Timeline →" not in page  # timelines are support's
    page = as_user("bob").get(reverse("dashboards:segment", args=[workspace.pk, "S1"])).content.decode()
    assert "Timeline →" in page
    for key, text in (("S7", "product_id"), ("S6", "missing property"), ("s8", "u-1")):
        assert text in alice.get(reverse("dashboards:segment", args=[workspace.pk, key])).content.decode(), key
    assert alice.get(reverse("dashboards:segment", args=[workspace.pk, "S11"])).status_code == 404


def test_a_segment_page_costs_the_same_queries_for_more_members(as_user, shop, workspace):
    def carts(count: int, prefix: str) -> None:
        for index in range(count):
            shop.send(track("added_to_cart", ago(0, 20), anonymousId=f"{prefix}-{index}",
                            properties={"cart_id": f"{prefix}{index}"}), source="browser")  # fmt: skip

    carts(2, "few")
    alice, url = as_user("alice"), reverse("dashboards:segment", args=[workspace.pk, "S1"])
    alice.get(url)
    with CaptureQueriesContext(connection) as few:
        alice.get(url)
    carts(20, "many")
    with CaptureQueriesContext(connection) as many:
        alice.get(url)
    assert len(many) == len(few)


def test_the_timeline_marks_what_the_plan_did(as_user, off_plan, workspace):
    from identities.models import Person

    person = Person.objects.get(identities__value="a-9")
    page = as_user("bob").get(reverse("dashboards:person", args=[workspace.pk, person.pk])).content.decode()
    assert "product_id number → string" in page or "product_id: number" in page
    person = Person.objects.get(identities__value="a-0")
    page = as_user("bob").get(reverse("dashboards:person", args=[workspace.pk, person.pk])).content.decode()
    assert "missing price" in page
