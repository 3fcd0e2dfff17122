"""Events are de-duplicated by their ULID `id` within a workspace."""

from .conftest import OTHER_SITE, ulid


def test_it_ignores_an_event_whose_id_was_already_received(emu):
    first = emu.event("u1", {"name": "order_completed", "id": ulid(7), "data": {"try": 1}})
    second = emu.event("u1", {"name": "order_completed", "id": ulid(7), "data": {"try": 2}})

    assert first.status_code == second.status_code == 200
    (event,) = emu.person("u1")["events"]
    assert event["data"] == {"try": 1}
    stats = emu.stats()
    assert stats["events_accepted"] == 1
    assert stats["duplicates_ignored"] == 1
    assert emu.requests_log()[1]["notes"] == ["duplicate_event_ignored"]


def test_it_deduplicates_across_v1_v2_and_anonymous_events(emu):
    emu.anonymous_event({"name": "viewed", "anonymous_id": "a1", "id": ulid(1)})
    emu.event("u1", {"name": "viewed", "id": ulid(1).lower()})
    op = {"type": "person", "action": "event", "identifiers": {"id": "u1"}, "name": "viewed", "id": ulid(1)}
    emu.batch([op])

    assert emu.person("u1")["events"] == []
    assert emu.stats()["duplicates_ignored"] == 2


def test_it_deduplicates_per_workspace(emu):
    emu.event("u1", {"name": "viewed", "id": ulid(1)})
    emu.event("u1", {"name": "viewed", "id": ulid(1)}, auth=OTHER_SITE)

    assert len(emu.person("u1", OTHER_SITE[0])["events"]) == 1


def test_it_keeps_events_without_id_even_when_identical(emu):
    emu.event("u1", {"name": "viewed"})
    emu.event("u1", {"name": "viewed"})

    assert len(emu.person("u1")["events"]) == 2
