import pytest

from events.models import Event, RejectedMessage


@pytest.mark.parametrize(
    "path,message,code,field",
    [
        ("/v1/track", {"event": "e"}, "missing_identity", "userId"),
        ("/v1/track", {"userId": "", "anonymousId": None, "event": "e"}, "missing_identity", "userId"),
        ("/v1/track", {"userId": "u"}, "missing_field", "event"),
        ("/v1/track", {"userId": "u", "event": "   "}, "missing_field", "event"),
        ("/v1/track", {"userId": "u", "event": 12}, "invalid_field", "event"),
        ("/v1/track", {"userId": "u", "event": "e" * 256}, "invalid_field", "event"),
        ("/v1/track", {"userId": "u", "event": "e", "properties": [1, 2]}, "invalid_field", "properties"),
        ("/v1/track", {"userId": "u", "event": "e", "context": "x"}, "invalid_field", "context"),
        ("/v1/track", {"userId": True, "event": "e"}, "invalid_field", "userId"),
        ("/v1/track", {"userId": {"id": 1}, "event": "e"}, "invalid_field", "userId"),
        ("/v1/track", {"userId": "u" * 256, "event": "e"}, "invalid_field", "userId"),
        ("/v1/track", {"userId": "u", "event": "e", "messageId": "m" * 201}, "invalid_field", "messageId"),
        ("/v1/track", {"userId": "u", "event": "e", "timestamp": "yesterday"}, "invalid_timestamp", "timestamp"),
        ("/v1/track", {"userId": "u", "event": "e", "sentAt": True}, "invalid_timestamp", "sentAt"),
        ("/v1/identify", {"userId": "u", "traits": "ada@example.com"}, "invalid_field", "traits"),
        ("/v1/alias", {"userId": "u"}, "missing_field", "previousId"),
        ("/v1/group", {"userId": "u"}, "missing_field", "groupId"),
        ("/v1/track", [1, 2], "invalid_message", ""),
    ],
)
def test_an_invalid_message_gets_400_naming_the_field(api, path, message, code, field):
    response = api.post(path, message, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert Event.objects.count() == 0
    rejected = RejectedMessage.objects.get()
    assert (rejected.code, rejected.field) == (code, field)
    assert rejected.payload == message


def test_a_partly_invalid_batch_keeps_the_good_messages_and_lists_the_bad(api, server_source):
    batch = [
        {"type": "track", "userId": "u", "event": "first"},
        {"type": "track", "userId": "u"},
        {"type": "bogus", "userId": "u"},
        {"type": "page", "anonymousId": "a", "name": "Home"},
        "not an object",
    ]
    response = api.post("/v1/batch", {"batch": batch}, format="json")
    assert response.status_code == 200
    assert response.json()["rejected"] == [
        {"index": 1, "code": "missing_field", "message": "event is required", "field": "event"},
        {"index": 2, "code": "invalid_type", "message": response.json()["rejected"][1]["message"], "field": "type"},
        {"index": 4, "code": "invalid_message", "message": "each message must be a JSON object", "field": ""},
    ]
    assert sorted(Event.objects.values_list("type", "name")) == [("page", "Home"), ("track", "first")]
    kept = RejectedMessage.objects.order_by("batch_index")
    assert [(r.batch_index, r.code) for r in kept] == [
        (1, "missing_field"),
        (2, "invalid_type"),
        (4, "invalid_message"),
    ]
    assert kept[0].payload == batch[1]
    assert all(r.source == server_source for r in kept)


def test_a_batch_with_no_valid_message_is_400_and_still_recorded(api):
    response = api.post("/v1/batch", {"batch": [{"type": "track"}, {"type": "nope"}]}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_batch"
    assert [item["index"] for item in body["rejected"]] == [0, 1]
    assert RejectedMessage.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [{}, {"batch": "x"}, {"batch": {"type": "track"}}, [], {"batch": [], "context": "x"}],
)
def test_a_malformed_batch_envelope_is_400(api, body):
    response = api.post("/v1/batch", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_batch", "invalid_field")


def test_an_empty_batch_stores_nothing_and_succeeds(api):
    response = api.post("/v1/batch", {"batch": []}, format="json")
    assert response.status_code == 200
    assert Event.objects.count() == 0


def test_an_oversize_rejected_payload_is_kept_as_an_excerpt(api):
    batch = [
        {"type": "track", "userId": "u", "event": "ok"},
        {"type": "track", "userId": "u", "event": "e", "properties": {"blob": "x" * 40_000}},
    ]
    api.post("/v1/batch", {"batch": batch}, format="json")
    payload = RejectedMessage.objects.get().payload
    assert payload["truncated"] is True
    assert len(payload["excerpt"]) <= 2048
