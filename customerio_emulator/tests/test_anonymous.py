"""Anonymous events: kept 30 days, attached by an identify carrying anonymous_id, 5-minute late rule."""

DAY = 24 * 3600


def names(events):
    return [event["name"] for event in events]


def test_it_attaches_anonymous_events_on_identify(emu):
    emu.anonymous_event({"name": "viewed_pricing", "anonymous_id": "anon-1"})
    emu.anonymous_event({"name": "viewed_home", "anonymous_id": "anon-2"})

    emu.identify("u1", {"anonymous_id": "anon-1"})

    person = emu.person("u1")
    assert names(person["events"]) == ["viewed_pricing"]
    assert person["events"][0]["anonymous_id"] == "anon-1"
    assert person["anonymous_ids"] == ["anon-1"]
    remaining = emu.anonymous_events()
    assert names(remaining["anonymous_events"]) == ["viewed_home"]
    assert remaining["links"]["anon-1"]["cio_id"] == person["cio_id"]


def test_it_attaches_only_the_last_30_days(emu):
    emu.anonymous_event({"name": "too_old", "anonymous_id": "anon-1"})
    emu.advance_clock(2 * DAY)
    emu.anonymous_event({"name": "recent", "anonymous_id": "anon-1"})
    emu.advance_clock(29 * DAY)

    emu.identify("u1", {"anonymous_id": "anon-1"})

    assert names(emu.person("u1")["events"]) == ["recent"]


def test_it_forgets_anonymous_events_after_30_days(emu):
    emu.anonymous_event({"name": "old", "anonymous_id": "anon-1"})
    emu.advance_clock(30 * DAY + 1)

    assert emu.anonymous_events()["anonymous_events"] == []


def test_it_attaches_anonymous_events_arriving_within_5_minutes_of_the_identify(emu):
    emu.identify("u1", {"anonymous_id": "anon-1"})
    emu.advance_clock(299)

    emu.anonymous_event({"name": "just_in_time", "anonymous_id": "anon-1"})

    assert names(emu.person("u1")["events"]) == ["just_in_time"]
    assert emu.anonymous_events()["anonymous_events"] == []


def test_it_keeps_anonymous_events_arriving_after_5_minutes_anonymous_and_marks_them_late(emu):
    emu.identify("u1", {"anonymous_id": "anon-1"})
    cio_id = emu.person("u1")["cio_id"]
    emu.advance_clock(301)

    emu.anonymous_event({"name": "too_late", "anonymous_id": "anon-1"})

    assert emu.person("u1")["events"] == []
    (event,) = emu.anonymous_events(anonymous_id="anon-1")["anonymous_events"]
    assert event["name"] == "too_late"
    assert event["late"] is True
    assert event["linked_cio_id"] == cio_id
    (note,) = emu.notes("anonymous_event_late")
    assert note["detail"]["anonymous_id"] == "anon-1"


def test_it_refuses_to_link_an_anonymous_id_to_a_second_person(emu):
    emu.identify("u1", {"anonymous_id": "anon-1"})
    emu.advance_clock(3600)
    emu.anonymous_event({"name": "later", "anonymous_id": "anon-1"})

    emu.identify("u2", {"anonymous_id": "anon-1"})

    assert emu.person("u2")["events"] == []
    assert emu.person("u2")["anonymous_ids"] == []
    assert [note["kind"] for note in emu.notes()][-1] == "anonymous_id_already_linked"
