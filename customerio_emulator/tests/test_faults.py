"""Fault injection over /_emulator/faults; a faulted request never changes state."""

import time

import pytest
import requests


def test_it_reports_sets_and_clears_the_policy(emu):
    assert emu.inspect("GET", "faults").json()["error_rate"] == 0

    response = emu.set_faults(error_rate=0.5, seed=7)
    assert response.status_code == 200
    assert response.json()["error_rate"] == 0.5
    assert response.json()["error_statuses"] == [500, 503]

    cleared = emu.inspect("DELETE", "faults").json()
    assert cleared["error_rate"] == 0
    assert cleared["seed"] is None


@pytest.mark.parametrize(
    "policy",
    [{"error_rate": 2}, {"error_statuses": [200]}, {"surprise": True}, {"retry_after": "soon"}, []],
)
def test_it_refuses_a_bad_policy(emu, policy):
    response = emu.inspect("POST", "faults", policy)

    assert response.status_code == 400
    assert response.json()["error"]
    assert emu.inspect("GET", "faults").json()["error_rate"] == 0


def statuses(emu, count):
    return [emu.identify(f"u{i}", {"n": i}).status_code for i in range(count)]


def test_it_injects_errors_reproducibly_with_a_seed(emu):
    emu.set_faults(error_rate=0.5, error_statuses=[500, 502], seed=42)
    first = statuses(emu, 20)
    emu.set_faults(error_rate=0.5, error_statuses=[500, 502], seed=42)
    second = statuses(emu, 20)

    assert first == second
    assert set(first) == {200, 500, 502}
    assert {person["id"] for person in emu.people()} == {f"u{i}" for i, s in enumerate(first) if s == 200}
    faulted = [entry for entry in emu.requests_log() if entry["status"] != 200]
    assert faulted
    assert all(entry["fault"] == "error" for entry in faulted)


def test_it_answers_429_with_retry_after(emu):
    emu.set_faults(rate_429=1, retry_after=2)

    response = emu.identify("u1", {"plan": "pro"})

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert emu.people() == []
    assert emu.requests_log()[0]["fault"] == "rate_429"


def test_it_answers_429_without_retry_after(emu):
    emu.set_faults(rate_429=1, retry_after=None)

    response = emu.event("u1", {"name": "x"})

    assert response.status_code == 429
    assert "Retry-After" not in response.headers
    assert emu.people() == []


def test_it_delays_answers_and_still_applies_them(emu):
    emu.set_faults(delay_ms=200)

    started = time.monotonic()
    response = emu.identify("u1", {"plan": "pro"})

    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200
    assert emu.person("u1") is not None
    entry = emu.requests_log()[0]
    assert entry["fault"] == "delay"
    assert entry["delay_ms"] == 200


def test_it_answers_503_to_everything_during_an_outage(emu):
    emu.identify("u1", {"plan": "pro"})
    emu.set_faults(outage=True)

    responses = [
        emu.identify("u1", {"plan": "team"}),
        emu.event("u1", {"name": "x"}),
        emu.batch([{"type": "person", "action": "delete", "identifiers": {"id": "u1"}}]),
        emu.track("GET", "/api/v1/accounts/region"),
        emu.identify("u2", {}, auth=None),
    ]

    assert {response.status_code for response in responses} == {503}
    (person,) = emu.people()
    assert person["attributes"] == {"plan": "pro"}
    assert person["events"] == []
    assert emu.stats()["faulted"] == 5


def test_it_holds_then_drops_the_connection_on_a_timeout(emu):
    emu.set_faults(timeout_rate=1, timeout_seconds=0.3)

    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        emu.identify("u1", {"plan": "pro"})

    assert time.monotonic() - started >= 0.3
    assert emu.people() == []
    (entry,) = emu.requests_log()
    assert entry["fault"] == "timeout"
    assert entry["status"] is None


def test_it_applies_nothing_from_a_faulted_batch(emu):
    emu.set_faults(error_rate=1, error_statuses=[500])
    operations = [{"type": "person", "action": "identify", "identifiers": {"id": f"u{i}"}} for i in range(3)]

    assert emu.batch(operations).status_code == 500

    emu.inspect("DELETE", "faults")
    assert emu.people() == []
    assert emu.stats()["workspaces"]["demo-site"] | {"requests": 0} == {
        "requests": 0,
        "events_accepted": 0,
        "duplicates_ignored": 0,
        "people": 0,
        "anonymous_events": 0,
        "notes": 0,
    }
