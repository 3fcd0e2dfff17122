"""Track API v1 endpoints over HTTP: identify, delete, events, anonymous events, devices, region."""

from .conftest import ulid


def test_it_creates_a_person_on_identify(emu):
    response = emu.identify("u1", {"email": "ann@example.com", "plan": "pro", "created_at": 1700000000})

    assert response.status_code == 200
    assert response.json() == {}
    person = emu.person("u1")
    assert person["id"] == "u1"
    assert person["email"] == "ann@example.com"
    assert person["attributes"] == {"plan": "pro", "created_at": 1700000000}
    assert person["cio_id"]


def test_it_updates_an_existing_person_and_clears_empty_attributes(emu):
    emu.identify("u1", {"plan": "pro", "city": "Oslo"})
    emu.identify("u1", {"plan": "team", "city": "", "unsubscribed": True})

    (person,) = emu.people()
    assert person["attributes"] == {"plan": "team", "unsubscribed": True}


def test_it_refuses_update_only_identify_for_an_unknown_person(emu):
    response = emu.identify("ghost", {"_update": True, "plan": "pro"})

    assert response.status_code == 400
    assert response.json() == {"meta": {"error": "no person matches 'ghost' and _update is true"}}
    assert emu.people() == []


def test_it_applies_update_only_identify_to_an_existing_person(emu):
    emu.identify("u1", {"plan": "pro"})

    assert emu.identify("u1", {"_update": True, "plan": "team"}).status_code == 200
    assert emu.person("u1")["attributes"] == {"plan": "team"}


def test_it_drops_identifies_older_than_the_last_timestamp(emu):
    emu.identify("u1", {"plan": "team", "_timestamp": 1700000100})
    emu.identify("u1", {"plan": "pro", "_timestamp": 1700000000})

    assert emu.person("u1")["attributes"] == {"plan": "team"}
    assert [note["kind"] for note in emu.notes()] == ["identify_ignored_out_of_order"]


def test_it_keeps_reserved_keys_out_of_attributes(emu):
    emu.identify(
        "u1",
        {
            "anonymous_id": "anon-1",
            "cio_relationships": [{"identifiers": {"object_type_id": "1", "object_id": "acme"}}],
            "cio_subscription_preferences": {"topics": {"topic_1": True}},
            "plan": "pro",
        },
    )

    person = emu.person("u1")
    assert person["attributes"] == {"plan": "pro"}
    assert person["anonymous_ids"] == ["anon-1"]
    assert person["relationships"] == [{"identifiers": {"object_type_id": "1", "object_id": "acme"}}]
    assert person["subscription_preferences"] == {"topics": {"topic_1": True}}


def test_it_changes_an_id_only_through_a_cio_identifier(emu):
    emu.identify("u1", {"plan": "pro"})
    cio_id = emu.person("u1")["cio_id"]

    emu.identify("u1", {"id": "u2"})
    assert emu.person("u1") is not None
    assert [note["kind"] for note in emu.notes()] == ["attribute_update_failure"]

    emu.identify(f"cio_{cio_id}", {"id": "u2"})
    assert emu.person("u1") is None
    assert emu.person("u2")["cio_id"] == cio_id


def test_it_attaches_a_new_id_to_the_person_who_has_that_email(emu):
    emu.identify("ann@example.com", {"plan": "pro"})

    emu.identify("u1", {"email": "ann@example.com"})

    (person,) = emu.people()
    assert person["id"] == "u1"
    assert person["email"] == "ann@example.com"


def test_it_merges_automatically_when_id_and_email_match_two_people(emu):
    emu.identify("ann@example.com", {"source": "email"})
    emu.identify("u1", {"source": "id", "plan": "pro"})

    emu.identify("u1", {"email": "ann@example.com"})

    (person,) = emu.people()
    assert person["id"] == "u1"
    assert person["email"] == "ann@example.com"
    # The email profile is older, so it is primary and keeps its own value.
    assert person["attributes"] == {"source": "email", "plan": "pro"}


def test_it_deletes_a_person(emu):
    emu.identify("u1", {"plan": "pro"})

    response = emu.track("DELETE", "/api/v1/customers/u1", {})

    assert response.status_code == 200
    assert emu.people() == []


def test_it_recreates_a_deleted_person_on_a_later_call(emu):
    emu.identify("u1", {"plan": "pro"})
    emu.track("DELETE", "/api/v1/customers/u1")

    emu.event("u1", {"name": "came_back"})

    person = emu.person("u1")
    assert person["attributes"] == {}
    assert [event["name"] for event in person["events"]] == ["came_back"]


def test_it_records_an_event_on_a_person(emu):
    emu.identify("u1", {})

    response = emu.event(
        "u1", {"name": " order_completed ", "id": ulid(1), "timestamp": 1700000000, "data": {"total": 12.5}}
    )

    assert response.status_code == 200
    (event,) = emu.person("u1")["events"]
    assert event["name"] == "order_completed"
    assert event["type"] == "event"
    assert event["id"] == ulid(1)
    assert event["timestamp"] == 1700000000
    assert event["data"] == {"total": 12.5}


def test_it_creates_the_person_for_an_event_to_an_unknown_id(emu):
    emu.event("u9", {"name": "signed_up"})

    assert [event["name"] for event in emu.person("u9")["events"]] == ["signed_up"]


def test_it_stamps_events_without_timestamp_with_receive_time(emu):
    emu.event("u1", {"name": "signed_up"})

    (event,) = emu.person("u1")["events"]
    assert abs(event["timestamp"] - event["received_at"]) < 1


def test_it_records_page_and_screen_views(emu):
    emu.event("u1", {"name": "https://example.com/pricing", "type": "page", "data": {"title": "Pricing"}})
    emu.event("u1", {"name": "Settings", "type": "screen"})

    events = emu.person("u1")["events"]
    assert [(e["type"], e["name"]) for e in events] == [
        ("page", "https://example.com/pricing"),
        ("screen", "Settings"),
    ]


def test_it_refuses_an_unknown_event_type(emu):
    response = emu.event("u1", {"name": "x", "type": "click"})

    assert response.status_code == 400
    assert response.json() == {"meta": {"error": "event type must be one of event, page, screen"}}


def test_it_keeps_anonymous_events(emu):
    response = emu.anonymous_event({"name": "viewed_pricing", "anonymous_id": "anon-1", "data": {"n": 1}})

    assert response.status_code == 200
    (event,) = emu.anonymous_events()["anonymous_events"]
    assert event["anonymous_id"] == "anon-1"
    assert event["name"] == "viewed_pricing"
    assert event["late"] is False


def test_it_keeps_anonymous_events_without_anonymous_id(emu):
    response = emu.anonymous_event({"name": "invite", "data": {"recipient": "bob@example.com"}})

    assert response.status_code == 200
    (event,) = emu.anonymous_events()["anonymous_events"]
    assert event["anonymous_id"] is None


def test_it_adds_and_deletes_devices(emu):
    device = {"id": "tok/1", "platform": "ios", "last_used": 1700000000, "attributes": {"app_version": "2.1"}}

    assert emu.track("PUT", "/api/v1/customers/u1/devices", {"device": device}).status_code == 200
    (stored,) = emu.person("u1")["devices"]
    assert stored["id"] == "tok/1"
    assert stored["platform"] == "ios"

    assert emu.track("DELETE", "/api/v1/customers/u1/devices/tok%2F1").status_code == 200
    assert emu.person("u1")["devices"] == []


def test_it_refuses_a_device_without_platform(emu):
    response = emu.track("PUT", "/api/v1/customers/u1/devices", {"device": {"id": "tok-1"}})

    assert response.status_code == 400
    assert response.json() == {"meta": {"error": "device platform must be one of ios, android"}}


def test_it_answers_the_region_lookup(emu, emulator_server):
    response = emu.track("GET", "/api/v1/accounts/region")

    assert response.status_code == 200
    assert response.json() == {"url": emulator_server.base_url, "region": "us", "environment_id": 1}


def test_it_refuses_a_body_that_is_not_a_json_object(emu):
    headers = {"Content-Type": "application/json"}
    bad_json = emu.track("PUT", "/api/v1/customers/u1", data=b"{nope", headers=headers)
    not_object = emu.track("PUT", "/api/v1/customers/u1", ["plan"])

    assert bad_json.status_code == 400
    assert bad_json.json() == {"meta": {"error": "request body must be valid JSON"}}
    assert not_object.json() == {"meta": {"error": "request body must be a JSON object"}}


def test_it_answers_unknown_paths_and_methods(emu):
    assert emu.track("GET", "/api/v1/nothing").status_code == 404
    response = emu.track("POST", "/api/v1/customers/u1", {})
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, PUT"
