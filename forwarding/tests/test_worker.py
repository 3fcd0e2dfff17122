"""End to end with real processes: ingest → outbox → Celery worker (+ beat) → the emulator over HTTP.

Each test ends by checking that every accepted event reached the emulated Customer.io exactly once
by its ULID id: the emulator keeps every event it accepted, and ignores (and counts) repeats.
"""

import pytest
import redis
from django.conf import settings

from events.models import Event
from forwarding.models import Delivery
from forwarding.tests.processes import beat, wait_until, worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Fast recovery so the drills fit in seconds: sweep every second, reclaim after 3 s, short back-off.
FAST = {
    "SEAM_FORWARDING_SWEEP_SECONDS": "1",
    "SEAM_DELIVERY_STUCK_AFTER_SECONDS": "3",
    "SEAM_DELIVERY_BASE_BACKOFF_SECONDS": "1",
    "SEAM_DELIVERY_MAX_BACKOFF_SECONDS": "2",
}


@pytest.fixture
def processes(tmp_path):
    started = []

    def start(kind: str, **env):
        process = beat(FAST | env, tmp_path) if kind == "beat" else worker(FAST | env, name=f"w{len(started)}")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def shoppers(count: int, events_each: int) -> list[dict]:
    batch = []
    for n in range(count):
        anonymous = f"anon-{n}"
        batch += [{"type": "page", "anonymousId": anonymous, "name": "Home", "properties": {"url": f"https://s/{n}"}}]
        batch += [{"type": "identify", "userId": f"u-{n}", "anonymousId": anonymous, "traits": {"email": f"s{n}@x.io"}}]
        batch += [
            {"type": "track", "userId": f"u-{n}", "event": "product_viewed", "properties": {"i": i}}
            for i in range(events_each)
        ]
    return batch


def ingest(api, batch: list[dict]) -> None:
    for start in range(0, len(batch), 500):
        response = api.post("/v1/batch", {"batch": batch[start : start + 500]}, format="json")
        assert response.status_code == 200, response.content


def delivered_exactly_once(emulator) -> None:
    """Every forwarded event is in the emulator once; nothing is left open in the outbox."""
    wait_until(lambda: not Delivery.objects.filter(state__in=["pending", "sending"]).exists(), "the outbox to drain")
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}
    expected = set(Event.objects.filter(type__in=["track", "page"]).values_list("pk", flat=True))
    received = [event["id"] for person in emulator.people() for event in person["events"]]
    received += [event["id"] for event in emulator.get("anonymous_events")["anonymous_events"]]
    assert len(received) == len(set(received))
    assert set(received) == expected


def test_a_worker_delivers_ingested_events_with_anonymous_history(api, workspace, emulator, processes):
    processes("worker")
    ingest(api, shoppers(5, 4))
    wait_until(
        lambda: len(emulator.people()) == 5 and all(len(p["events"]) == 5 for p in emulator.people()), "5 people"
    )
    delivered_exactly_once(emulator)
    person = emulator.person("u-3")
    assert "anon-3" in person["anonymous_ids"] and person["email"] == "s3@x.io"


def test_a_worker_applies_a_merge_of_two_known_people(api, workspace, emulator, processes):
    from identities.models import Person
    from identities.services import person_merge

    processes("worker")
    ingest(api, shoppers(2, 2))
    survivor, merged_away = (Person.objects.get(customer_id=customer) for customer in ("u-0", "u-1"))
    # Merged at once, while the worker may still be sending both people's identifies and events:
    # the merge waits for both people's earlier operations (per-person order), however they interleave.
    person_merge(survivor=survivor, merged_away=merged_away)
    wait_until(lambda: emulator.person("u-1") is None and emulator.person("u-0") is not None, "the merge applied")
    delivered_exactly_once(emulator)
    person = emulator.person("u-0")
    assert {"anon-0", "anon-1"} <= set(person["anonymous_ids"])
    assert len(person["events"]) == 6  # both people's page and product views, moved to the survivor
    assert emulator.get("notes", kind="merge_ignored_primary_missing")["notes"] == []


def test_nothing_is_lost_under_5xx_429_and_timeouts(api, workspace, emulator, processes):
    emulator.faults(
        error_rate=0.3,
        error_statuses=[500, 503],
        rate_429=0.1,
        retry_after=1,
        timeout_rate=0.05,
        timeout_seconds=1,
        seed=7,
    )
    processes("worker")
    processes("beat")
    ingest(api, shoppers(20, 10))
    wait_until(
        lambda: (
            Delivery.objects.filter(attempts__gt=0, state="pending").exists()
            or Delivery.objects.filter(state="delivered").count() > 50
        ),
        "faults to bite",
    )
    emulator.faults()
    delivered_exactly_once(emulator)
    assert emulator.get("stats")["faulted"] > 0


def test_a_worker_killed_mid_batch_loses_nothing(api, workspace, emulator, processes):
    emulator.faults(delay_ms=150)
    first = processes("worker")
    processes("beat")
    ingest(api, shoppers(30, 20))
    wait_until(lambda: Delivery.objects.filter(state="delivered").exists(), "the first deliveries")
    # Kill while it sends, as chaos/drill.py does: the emulator's 150 ms per request keeps a claimed batch
    # in 'sending' long enough to be seen; SIGKILL the moment one is.
    wait_until(lambda: Delivery.objects.filter(state="sending").exists(), "a claimed batch in flight")
    first.kill()
    # Only the dead worker claimed: what is still 'sending' is what the kill left mid-send.
    in_flight = Delivery.objects.filter(state="sending").count()
    assert in_flight > 0, "the kill landed between batches"
    emulator.faults()
    processes("worker")
    delivered_exactly_once(emulator)  # the sweep freed the dead worker's claims and they were sent, once


def test_a_flushed_broker_loses_nothing(api, workspace, emulator, processes):
    if not settings.REDIS_URL:
        pytest.skip("the embedded broker is a folder; flushing Redis needs REDIS_URL")
    emulator.faults(delay_ms=50)
    processes("worker")
    processes("beat")
    ingest(api, shoppers(20, 10))
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    emulator.faults()
    delivered_exactly_once(emulator)


def test_the_rate_limit_holds_across_two_worker_processes(api, workspace, emulator, processes):
    workspace.rate_limit_per_second = 20
    workspace.save()
    processes("worker")
    processes("worker")
    processes("beat")
    # Anonymous events go one per request: 100 requests that two workers would love to send at once.
    ingest(api, [{"type": "track", "anonymousId": f"a-{n}", "event": "product_viewed"} for n in range(100)])
    delivered_exactly_once(emulator)
    per_second = emulator.get("stats")["per_second"]
    busiest = max(per_second.values())
    assert busiest <= 20 + 2, per_second  # the bucket's burst is a tenth of a second's budget
    assert len(per_second) >= 4  # 100 requests at 20/s cannot take less than ~5 s
