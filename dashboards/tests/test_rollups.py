"""The health rollups hold the product's metric definitions, on a small shop whose answers are known."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from dashboards.models import DailyHealth, EventVolume, WorkspaceHealth
from dashboards.selectors import ROLLUP_DAYS, health_overview, latency_percentile
from dashboards.services import health_rollup_refresh, health_rollups_refresh_all
from dashboards.tests.conftest import identify, track
from forwarding.models import Delivery

pytestmark = pytest.mark.django_db


def ago(days: float = 0, minutes: float = 0) -> str:
    return (timezone.now() - timedelta(days=days, minutes=minutes)).isoformat()


@pytest.fixture
def small_shop(shop):
    """Ada browses then logs in (3 identified events); a visitor browses and leaves (3 anonymous);
    Grace, a known customer, orders from the backend (1 identified)."""
    shop.send(
        track("product_viewed", ago(3), anonymousId="a-ada"),
        track("added_to_cart", ago(3), anonymousId="a-ada"),
        source="browser",
    )
    shop.send(identify(ago(3, -5), userId="u-ada", anonymousId="a-ada", traits={"email": "ada@example.com"}))
    shop.send(*[track("product_viewed", ago(2), anonymousId="a-visitor") for _ in range(3)], source="browser")
    shop.send(track("order_completed", ago(1), userId="u-grace", properties={"order_id": "o-1"}))
    return shop


def test_it_counts_identified_events_by_who_the_person_is_now(small_shop, workspace):
    health_rollup_refresh(workspace=workspace)
    overview = health_overview(workspace=workspace, days=7)
    metrics = {metric.key: metric for metric in overview.metrics}
    assert metrics["identified_share"].value == pytest.approx(100 * 4 / 7)
    assert metrics["unresolved"].value == 3
    # Both anonymous ids were first seen now (ingest stamps the server clock); one is Ada's now.
    assert metrics["merge_rate"].value == pytest.approx(50.0)
    assert WorkspaceHealth.objects.get(workspace=workspace).anonymous_ids == 2


def test_it_recomputes_the_past_when_a_visitor_identifies_later(small_shop, workspace):
    health_rollup_refresh(workspace=workspace)
    day = (timezone.now() - timedelta(days=2)).date()
    assert DailyHealth.objects.get(workspace=workspace, day=day).identified_events == 0

    small_shop.send(identify(ago(0), userId="u-visitor", anonymousId="a-visitor"))
    health_rollup_refresh(workspace=workspace)
    assert DailyHealth.objects.get(workspace=workspace, day=day).identified_events == 3
    metrics = {metric.key: metric for metric in health_overview(workspace=workspace, days=7).metrics}
    assert metrics["merge_rate"].value == 100.0
    assert metrics["unresolved"].value == 0


def test_it_keeps_volume_by_day_name_and_source(small_shop, workspace, browser_source, server_source):
    health_rollup_refresh(workspace=workspace)
    volume = {(row.day, row.name, row.source_id): row.events for row in EventVolume.objects.filter(workspace=workspace)}
    day = (timezone.now() - timedelta(days=2)).date()
    assert volume[(day, "product_viewed", browser_source.pk)] == 3
    assert sum(count for (_, name, source), count in volume.items() if source == server_source.pk) == 2
    overview = health_overview(workspace=workspace, days=7)
    assert overview.volume.total == 7
    assert overview.volume.rows[0].name == "product_viewed" and overview.volume.rows[0].total == 4


def test_it_is_safe_to_run_twice(small_shop, workspace):
    health_rollups_refresh_all()
    first = list(DailyHealth.objects.order_by("day").values_list("day", "events", "identified_events"))
    health_rollups_refresh_all()
    assert list(DailyHealth.objects.order_by("day").values_list("day", "events", "identified_events")) == first
    assert len(first) == ROLLUP_DAYS


def test_it_counts_duplicate_profiles_and_replays_their_history(shop, workspace):
    shop.send(identify(ago(10), userId="u-1", traits={"email": "Maria.Lopez@gmail.com"}))
    shop.send(identify(ago(4), userId="u-2", traits={"email": "marialopez+shop@gmail.com"}))
    health_rollup_refresh(workspace=workspace)
    by_day = dict(DailyHealth.objects.filter(workspace=workspace).values_list("day", "duplicate_groups"))
    today = timezone.now().date()
    assert by_day[today - timedelta(days=6)] == 0  # the second account did not exist yet
    assert by_day[today - timedelta(days=3)] == 1
    assert by_day[today] == 1
    metrics = {metric.key: metric for metric in health_overview(workspace=workspace).metrics}
    assert metrics["duplicates"].value == 1


def test_it_measures_delivery_states_and_latency(small_shop, workspace):
    deliveries = list(Delivery.objects.filter(workspace=workspace).order_by("id"))
    assert len(deliveries) >= 4
    fast, slow, failed, dead = deliveries[0], deliveries[1], deliveries[2], deliveries[3]
    Delivery.objects.filter(pk=fast.pk).update(state="delivered", delivered_at=F("created_at") + timedelta(seconds=0.2))
    Delivery.objects.filter(pk=slow.pk).update(state="delivered", delivered_at=F("created_at") + timedelta(seconds=40))
    Delivery.objects.filter(pk=failed.pk).update(state="failed", last_status_code=400, last_error="bad attribute")
    Delivery.objects.filter(pk=dead.pk).update(state="dead", last_status_code=503)
    health_rollup_refresh(workspace=workspace)
    health = health_overview(workspace=workspace, days=7).deliveries
    assert (health.delivered, health.failed, health.dead) == (2, 1, 1)
    assert health.p50_ms == 250 and health.p95_ms == 60_000
    assert health.pending == len(deliveries) - 4
    assert [d.pk for d in health.errors] == [dead.pk, failed.pk]


def test_it_reads_percentiles_from_the_histogram():
    assert latency_percentile([0, 5, 10, 10], 10, 0.5) == 500
    assert latency_percentile([0, 0, 0], 4, 0.95) > 1_000  # in the open last bucket
    assert latency_percentile([], 0, 0.5) is None


def test_it_compares_with_the_previous_period_only_when_there_was_one(small_shop, workspace):
    health_rollup_refresh(workspace=workspace)
    metrics = {metric.key: metric for metric in health_overview(workspace=workspace, days=7).metrics}
    assert metrics["unresolved"].delta_display == "no previous period"
    metrics = {metric.key: metric for metric in health_overview(workspace=workspace, days=1).metrics}
    assert metrics["unresolved"].previous == 0  # yesterday had events: a real comparison
