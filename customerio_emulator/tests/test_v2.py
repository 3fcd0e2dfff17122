"""Track API v2: one operation per /entity, many per /batch, 207 for partial success."""

import json

from .conftest import ulid


def person_op(action, identifiers=None, **fields):
    return {"type": "person", "action": action, "identifiers": identifiers or {"id": "u1"}, **fields}


def test_it_applies_an_entity_operation(emu):
    response = emu.track("POST", "/api/v2/entity", person_op("identify", attributes={"plan": "pro"}))

    assert response.status_code == 200
    assert response.json() == {}
    assert emu.person("u1")["attributes"] == {"plan": "pro"}


def test_it_refuses_an_entity_request_of_32_kb(emu):
    op = person_op("identify", attributes={"bio": "x"})
    padding = 32 * 1024 - len(json.dumps(op).encode())
    body = json.dumps(op).encode() + b" " * padding

    response = emu.track("POST", "/api/v2/entity", data=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"] == "too_large"
    assert emu.people() == []


def test_it_answers_entity_validation_errors_in_the_v2_shape(emu):
    response = emu.track("POST", "/api/v2/entity", person_op("event", name=""))

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"reason": "required", "field": "name", "message": "event name must not be blank"}]
    }


def test_it_applies_every_kind_of_batch_operation(emu):
    operations = [
        person_op("identify", attributes={"plan": "pro"}),
        person_op("event", name="order_completed", id=ulid(1), timestamp=1700000000, attributes={"o": "o-9"}),
        person_op("page", name="https://example.com/", attributes={"title": "Home"}),
        person_op("screen", name="Settings"),
        person_op("add_device", device={"token": "tok-1", "platform": "android"}),
        person_op("identify", {"email": "old@example.com"}, attributes={"city": "Oslo"}),
        {
            "type": "person",
            "action": "merge",
            "primary": {"id": "u1"},
            "secondary": {"email": "old@example.com"},
        },
    ]

    response = emu.batch(operations)

    assert response.status_code == 200, response.text
    (person,) = emu.people()
    assert person["attributes"] == {"plan": "pro", "city": "Oslo"}
    assert [(e["type"], e["name"]) for e in person["events"]] == [
        ("event", "order_completed"),
        ("page", "https://example.com/"),
        ("screen", "Settings"),
    ]
    assert person["events"][0]["data"] == {"o": "o-9"}
    assert [device["id"] for device in person["devices"]] == ["tok-1"]


def test_it_deletes_devices_and_people_in_a_batch(emu):
    emu.batch([person_op("add_device", device={"token": "tok-1", "platform": "ios"})])

    emu.batch([person_op("delete_device", device={"token": "tok-1"})])
    assert emu.person("u1")["devices"] == []

    emu.batch([person_op("delete")])
    assert emu.people() == []


def test_it_answers_207_and_applies_the_good_operations(emu):
    operations = [
        person_op("identify", attributes={"plan": "pro"}),
        person_op("event", name="x" * 101),
        person_op("identify", {"anonymous_id": "anon-1"}),
        person_op("event", {"id": "u2"}, name="signed_up"),
        person_op("identify", {"id": "u3", "email": "u3@example.com"}),
    ]

    response = emu.batch(operations)

    assert response.status_code == 207
    errors = response.json()["errors"]
    assert [error["batch_index"] for error in errors] == [1, 2, 4]
    assert errors[0] == {
        "batch_index": 1,
        "reason": "too_long",
        "field": "name",
        "message": "event name cannot be longer than 100 bytes",
    }
    assert errors[1]["field"] == "identifiers.anonymous_id"
    assert {person["id"] for person in emu.people()} == {"u1", "u2"}


def test_it_answers_400_when_every_batch_operation_is_bad(emu):
    response = emu.batch([person_op("fly"), {"type": "object", "action": "identify"}, "nope"])

    assert response.status_code == 400
    assert [error["batch_index"] for error in response.json()["errors"]] == [0, 1, 2]


def test_it_refuses_a_batch_operation_over_32_kb(emu):
    big = person_op("event", name="big", attributes={"blob": "x" * (32 * 1024)})

    response = emu.batch([person_op("identify"), big])

    assert response.status_code == 207
    (error,) = response.json()["errors"]
    assert error["batch_index"] == 1
    assert error["reason"] == "too_large"
    assert emu.person("u1")["events"] == []


def test_it_refuses_a_batch_request_over_500_kb(emu):
    operations = [person_op("event", name="e", attributes={"blob": "x" * 30_000}) for _ in range(18)]

    response = emu.batch(operations)

    assert len(json.dumps({"batch": operations})) > 500 * 1024
    assert response.status_code == 400
    assert response.json()["errors"][0]["reason"] == "too_large"
    assert emu.people() == []


def test_it_refuses_a_malformed_batch_body(emu):
    response = emu.track("POST", "/api/v2/batch", {"operations": []})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "batch"


def test_it_refuses_identifiers_that_are_not_exactly_one_of_id_email_cio_id(emu):
    operations = [
        person_op("identify", {"id": "u1", "email": "u1@example.com"}),
        person_op("identify", {"cio_id": "cio_abc"}),
        {"type": "person", "action": "identify"},
        person_op("merge", primary={"id": "u1"}, secondary={"id": "u2"}),
    ]

    response = emu.batch(operations)

    assert response.status_code == 400
    messages = [error["message"] for error in response.json()["errors"]]
    assert messages == [
        "identifiers must be an object with exactly one of id, email, cio_id",
        "cio_id in a body must not carry the cio_ prefix",
        "identifiers must be an object with exactly one of id, email, cio_id",
        "merge takes primary and secondary, not identifiers",
    ]


def test_it_orders_v2_identifies_by_their_timestamp(emu):
    emu.batch([person_op("identify", attributes={"plan": "team"}, timestamp=1700000100)])
    emu.batch([person_op("identify", attributes={"plan": "pro"}, timestamp=1700000000)])

    assert emu.person("u1")["attributes"] == {"plan": "team"}
