"""Limits answer 400 with Customer.io's exact messages (contract "Limits and their 400 messages").

The float, millisecond and ULID messages are the emulator's own: the contract leaves them undocumented.
"""

import pytest

from .conftest import ulid

NOT_A_ULID = "event id must be a ULID (26 Crockford base32 characters)"


def v1_error(response):
    assert response.status_code == 400, response.text
    return response.json()["meta"]["error"]


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"a" * 151: 1}, "attribute name cannot be longer than 150 bytes"),
        ({"bio": "x" * 1001}, "value for attribute 'bio' cannot be longer than 1000 bytes"),
        ({"bio": "é" * 501}, "value for attribute 'bio' cannot be longer than 1000 bytes"),
        ({f"a{i}": i for i in range(301)}, "cannot identify more than 300 attributes in one request"),
        ({"address": {"city": "Oslo"}}, "value for attribute 'address' must be a string, number or boolean"),
        ({"created_at": 1700000000000}, "created_at looks like milliseconds; send integer unix seconds"),
    ],
    ids=["name-151", "value-1001", "value-multibyte", "301-attributes", "nested", "created-at-ms"],
)
def test_it_enforces_identify_limits(emu, attributes, message):
    assert v1_error(emu.identify("u1", attributes)) == message
    assert emu.people() == []


def test_it_accepts_identify_values_at_the_limits(emu):
    attributes = {f"a{i}": i for i in range(299)} | {"n" * 150: "x" * 1000}

    assert emu.identify("u1", attributes).status_code == 200


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"name": "x" * 101}, "event name cannot be longer than 100 bytes"),
        ({"name": "   "}, "event name must not be blank"),
        ({"data": {}}, "event name must not be blank"),
        ({"name": "x", "data": ["a"]}, "event data must be a hash"),
        ({"name": "x", "data": "a"}, "event data must be a hash"),
        ({"name": "x", "data": {"blob": "y" * 100_000}}, "event data cannot be longer than 100000 bytes"),
        ({"name": "x", "timestamp": 1.7e9}, "event timestamp must be integer unix seconds, not a float"),
        (
            {"name": "x", "timestamp": 1700000000000},
            "event timestamp looks like milliseconds; send integer unix seconds",
        ),
        ({"name": "x", "timestamp": "2023-11-14T22:13:20Z"}, "event timestamp must be integer unix seconds"),
        ({"name": "x", "id": "3b241101-e2bb-4255-8caf-4136c566a962"}, NOT_A_ULID),
        ({"name": "x", "id": "01HB4HBDKTFWYZCK01DMRSWRFU"}, NOT_A_ULID),
        ({"name": "x", "id": 12345}, NOT_A_ULID),
    ],
    ids=[
        "name-101",
        "name-blank",
        "name-missing",
        "data-list",
        "data-string",
        "data-100001",
        "timestamp-float",
        "timestamp-ms",
        "timestamp-iso",
        "id-uuid",
        "id-bad-letter",
        "id-integer",
    ],
)
def test_it_enforces_event_limits(emu, event, message):
    assert v1_error(emu.event("u1", event)) == message
    assert v1_error(emu.anonymous_event({"anonymous_id": "a1", **event})) == message
    assert emu.people() == []


def test_it_accepts_events_at_the_limits(emu):
    event = {"name": "x" * 100, "id": ulid(1).lower(), "timestamp": 1700000000, "data": {"b": "y" * 99_990}}

    assert emu.event("u1", event).status_code == 200
    (stored,) = emu.person("u1")["events"]
    assert stored["id"] == ulid(1)
