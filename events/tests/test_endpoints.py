import pytest

from conftest import BROWSER_KEY
from events.models import Event

MESSAGES = {
    "identify": {"userId": "u-1", "anonymousId": "a-1", "traits": {"email": "ada@example.com"}},
    "track": {"userId": "u-1", "event": "added_to_cart", "properties": {"cart_id": "c-1"}},
    "page": {"anonymousId": "a-1", "name": "Home", "properties": {"url": "https://shop.example/"}},
    "screen": {"anonymousId": "a-1", "name": "Cart"},
    "group": {"userId": "u-1", "groupId": "g-1", "traits": {"plan": "pro"}},
    "alias": {"previousId": "a-1", "userId": "u-1"},
}
SHORT = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a"}


@pytest.mark.parametrize("message_type", MESSAGES)
@pytest.mark.parametrize("short", [False, True], ids=["full", "short"])
def test_each_endpoint_stores_its_message_type(api, message_type, short):
    path = f"/v1/{SHORT[message_type] if short else message_type}"
    response = api.post(path, MESSAGES[message_type], format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {}
    event = Event.objects.get()
    assert event.type == message_type
    assert len(event.id) == 26  # a ULID


def test_it_stores_every_field_of_a_message(api, server_source):
    message = {
        "type": "track",
        "event": "order_completed",
        "userId": "u-1",
        "anonymousId": "a-1",
        "messageId": "msg-42",
        "properties": {"order_id": "o-1", "revenue": 30.5},
        "context": {"ip": "203.0.113.9", "library": {"name": "analytics-python", "version": "1.1.0"}},
        "integrations": {"All": True},
        "timestamp": "2026-11-20T10:00:00.000+01:00",
    }
    assert api.post("/v1/track", message, format="json").status_code == 200
    event = Event.objects.get()
    assert (event.name, event.user_id, event.anonymous_id, event.message_id) == (
        "order_completed",
        "u-1",
        "a-1",
        "msg-42",
    )
    assert event.properties == {"order_id": "o-1", "revenue": 30.5}
    assert event.context["library"]["name"] == "analytics-python"
    assert event.integrations == {"All": True}
    assert event.original_timestamp.isoformat() == "2026-11-20T09:00:00+00:00"
    assert event.timestamp == event.original_timestamp
    assert event.workspace == server_source.workspace
    assert event.received_at is not None


def test_identify_alias_and_group_keep_what_identity_resolution_needs(api):
    api.post("/v1/identify", MESSAGES["identify"], format="json")
    api.post("/v1/alias", MESSAGES["alias"], format="json")
    api.post("/v1/group", MESSAGES["group"], format="json")
    identify, alias, group = (Event.objects.get(type=kind) for kind in ("identify", "alias", "group"))
    assert identify.traits == {"email": "ada@example.com"} and identify.anonymous_id == "a-1"
    assert (alias.previous_id, alias.user_id) == ("a-1", "u-1")
    assert (group.group_id, group.traits) == ("g-1", {"plan": "pro"})


def test_the_batch_endpoint_stores_mixed_types_in_order(api):
    batch = [{"type": kind, **message} for kind, message in MESSAGES.items()]
    response = api.post("/v1/batch", {"batch": batch}, format="json")
    assert response.status_code == 200
    assert response.json() == {}
    assert list(Event.objects.order_by("id").values_list("type", flat=True)) == list(MESSAGES)


def test_a_batch_top_level_context_and_integrations_apply_to_each_item(api):
    batch = {
        "batch": [
            {"type": "track", "userId": "u", "event": "a", "context": {"locale": "fr-FR"}},
            {"type": "track", "userId": "u", "event": "b"},
        ],
        "context": {"library": {"name": "analytics-node"}, "locale": "en-US"},
        "integrations": {"Customer.io": False},
    }
    assert api.post("/v1/batch", batch, format="json").status_code == 200
    first, second = Event.objects.order_by("id")
    assert first.context == {"library": {"name": "analytics-node"}, "locale": "fr-FR"}
    assert second.context == {"library": {"name": "analytics-node"}, "locale": "en-US"}
    assert first.integrations == second.integrations == {"Customer.io": False}


def test_the_endpoint_decides_the_type_of_a_single_message(api):
    api.post("/v1/track", {"type": "identify", "userId": "u", "event": "e"}, format="json")
    assert Event.objects.get().type == "track"


def test_numeric_ids_are_stored_as_strings(api):
    api.post("/v1/track", {"userId": 42, "event": "e", "messageId": 7}, format="json")
    event = Event.objects.get()
    assert (event.user_id, event.message_id) == ("42", "7")


def test_the_sdk_settings_point_the_browser_sdk_back_here(client, browser_source, settings):
    settings.ALLOWED_HOSTS = ["seam.example"]
    response = client.get(f"/v1/projects/{BROWSER_KEY}/settings", HTTP_HOST="seam.example:8000")
    assert response.status_code == 200
    settings = response.json()["integrations"]["Customer.io Data Pipelines"]
    assert settings == {"apiKey": BROWSER_KEY, "apiHost": "seam.example:8000/v1", "protocol": "http"}


def test_the_sdk_settings_refuse_unknown_keys(client, browser_source):
    response = client.get("/v1/projects/pk_nobody/settings")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_write_key"


def test_unknown_ingest_paths_answer_json(client):
    response = client.post("/v1/nothing-here", {}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_wrong_method_answers_json(api):
    response = api.get("/v1/track")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
