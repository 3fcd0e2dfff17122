"""The /_emulator/ endpoints other tests code against."""

from .conftest import ulid


def test_it_lists_people_with_identifiers_attributes_and_events(emu):
    emu.identify("u1", {"email": "ann@example.com", "plan": "pro", "anonymous_id": "anon-1"})
    emu.event("u1", {"name": "order_completed", "id": ulid(1), "timestamp": 1700000000, "data": {"o": 1}})

    (person,) = emu.people()

    assert person["id"] == "u1"
    assert person["email"] == "ann@example.com"
    assert person["attributes"] == {"plan": "pro"}
    assert person["anonymous_ids"] == ["anon-1"]
    (event,) = person["events"]
    assert {k: event[k] for k in ("name", "id", "type", "timestamp", "data")} == {
        "name": "order_completed",
        "id": ulid(1),
        "type": "event",
        "timestamp": 1700000000,
        "data": {"o": 1},
    }


def test_it_finds_one_person_by_any_identifier(emu):
    emu.identify("u1", {"email": "ann@example.com"})
    cio_id = emu.person("u1")["cio_id"]

    assert emu.person("ANN@example.com")["id"] == "u1"
    assert emu.person(f"cio_{cio_id}")["id"] == "u1"
    response = emu.inspect("GET", "people/nobody")
    assert response.status_code == 404


def test_it_pages_the_request_log_by_index(emu):
    emu.identify("u1", {"plan": "pro"})
    emu.event("u1", {"name": "a"})
    emu.event("u1", {"name": "b"})

    page = emu.inspect("GET", "requests", since=1).json()

    assert [entry["index"] for entry in page["requests"]] == [1, 2]
    assert page["next"] == 3
    entry = page["requests"][0]
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/v1/customers/u1/events"
    assert entry["identifier"] == "u1"
    assert entry["body"] == {"name": "a"}
    assert entry["status"] == 200
    assert entry["fault"] is None
    assert entry["time"] > 0


def test_it_does_not_log_inspection_requests(emu):
    emu.people()
    emu.stats()

    assert emu.requests_log() == []


def test_it_counts_requests_and_events(emu):
    emu.event("u1", {"name": "a", "id": ulid(1)})
    emu.event("u1", {"name": "a", "id": ulid(1)})
    emu.identify("u1", {}, auth=None)

    stats = emu.stats()

    assert stats["requests"] == 3
    assert stats["by_status"] == {"200": 2, "401": 1}
    assert stats["events_accepted"] == 1
    assert stats["duplicates_ignored"] == 1
    assert sum(stats["per_second"].values()) == 3
    assert stats["workspaces"]["demo-site"]["requests"] == 2


def test_it_resets_everything(emu):
    emu.identify("u1", {"plan": "pro"})
    emu.advance_clock(60)
    emu.set_faults(delay_ms=1)

    assert emu.inspect("POST", "reset").status_code == 200

    assert emu.people() == []
    assert emu.requests_log() == []
    assert emu.inspect("GET", "clock").json()["offset_seconds"] == 0
    assert emu.inspect("GET", "faults").json()["delay_ms"] == 0


def test_it_moves_the_clock(emu):
    before = emu.inspect("GET", "clock").json()["now"]

    response = emu.inspect("POST", "clock", {"offset_seconds": 3600})

    assert response.json()["offset_seconds"] == 3600
    assert response.json()["now"] - before >= 3600
    emu.event("u1", {"name": "later"})
    assert emu.person("u1")["events"][0]["received_at"] - before >= 3600
    assert emu.inspect("POST", "clock", {"offset": 1}).status_code == 400


def test_it_serves_an_escaped_html_page(emu):
    emu.identify("u1", {"name": "<script>alert(1)</script>"})

    response = emu.inspect("GET", "")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "&lt;script&gt;" in response.text
    assert "<script>" not in response.text
    assert "/api/v1/customers/u1" in response.text


def test_it_answers_404_for_unknown_inspection_paths(emu):
    assert emu.inspect("GET", "nothing").status_code == 404
