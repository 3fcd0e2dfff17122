"""merge_customers (v1) and merge (v2): primary must exist, secondary deleted, gaps filled, events moved."""

from .conftest import ulid


def merge(emu, primary, secondary):
    return emu.track("POST", "/api/v1/merge_customers", {"primary": primary, "secondary": secondary})


def test_it_merges_the_secondary_into_the_primary(emu):
    emu.identify("u1", {"plan": "pro", "city": "", "phone": "1"})
    emu.identify("old@example.com", {"plan": "free", "city": "Oslo", "company": "Acme"})
    emu.event("u1", {"name": "primary_event", "id": ulid(1)})
    emu.event("old@example.com", {"name": "secondary_event", "id": ulid(2)})
    device = {"device": {"id": "t1", "platform": "ios"}}
    emu.track("PUT", "/api/v1/customers/old%40example.com/devices", device)
    secondary_cio = emu.person("old@example.com")["cio_id"]

    response = merge(emu, {"id": "u1"}, {"email": "old@example.com"})

    assert response.status_code == 200
    (person,) = emu.people()
    assert person["id"] == "u1"
    # The secondary's identifiers are not aliases of the primary (contract: assume not).
    assert person["email"] is None
    assert emu.person("old@example.com") is None
    assert person["attributes"] == {"plan": "pro", "phone": "1", "city": "Oslo", "company": "Acme"}
    assert [(e["name"], e["merged_from"]) for e in person["events"]] == [
        ("primary_event", None),
        ("secondary_event", secondary_cio),
    ]
    assert [device["id"] for device in person["devices"]] == ["t1"]


def test_it_does_nothing_when_the_primary_is_missing(emu):
    emu.identify("old@example.com", {"plan": "free"})

    response = merge(emu, {"id": "u1"}, {"email": "old@example.com"})

    assert response.status_code == 200
    (person,) = emu.people()
    assert person["email"] == "old@example.com"
    (note,) = emu.notes("merge_ignored_primary_missing")
    assert note["detail"] == {"primary": "u1", "secondary": "old@example.com"}
    assert emu.requests_log()[-1]["notes"] == ["merge_ignored_primary_missing"]


def test_it_does_nothing_when_the_secondary_is_missing(emu):
    emu.identify("u1", {"plan": "pro"})

    assert merge(emu, {"id": "u1"}, {"id": "u2"}).status_code == 200

    assert len(emu.people()) == 1
    assert [note["kind"] for note in emu.notes()] == ["merge_ignored_secondary_missing"]


def test_it_merges_by_cio_id_in_a_v2_batch(emu):
    emu.identify("u1", {"plan": "pro"})
    emu.identify("u2", {"city": "Oslo"})
    cio_id = emu.person("u2")["cio_id"]

    response = emu.batch(
        [{"type": "person", "action": "merge", "primary": {"id": "u1"}, "secondary": {"cio_id": cio_id}}]
    )

    assert response.status_code == 200
    (person,) = emu.people()
    assert person["attributes"] == {"plan": "pro", "city": "Oslo"}


def test_it_refuses_a_merge_without_valid_primary_and_secondary(emu):
    response = merge(emu, {"anonymous_id": "a1"}, {"id": "u2"})

    assert response.status_code == 400
    assert response.json()["meta"]["error"] == "primary must be one of id, email, cio_id, not 'anonymous_id'"


def test_it_moves_absorbed_anonymous_ids_to_the_primary(emu):
    emu.identify("u1", {})
    emu.identify("u2", {"anonymous_id": "anon-1"})
    merge(emu, {"id": "u1"}, {"id": "u2"})

    emu.anonymous_event({"name": "still_in_window", "anonymous_id": "anon-1"})

    person = emu.person("u1")
    assert person["anonymous_ids"] == ["anon-1"]
    assert [event["name"] for event in person["events"]] == ["still_in_window"]
