import gzip

import orjson
import pytest

from conftest import BROWSER_KEY, SERVER_KEY
from events.models import Event

AUTH = {"HTTP_AUTHORIZATION": f"Bearer {SERVER_KEY}"}


def raw_post(client, path, body: bytes, content_type="application/json", **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def test_it_reads_text_plain_bodies_as_the_browser_sdk_sends_them(client, browser_source):
    body = orjson.dumps({"anonymousId": "a-1", "event": "product_viewed", "writeKey": BROWSER_KEY})
    response = raw_post(client, "/v1/t", body, content_type="text/plain;charset=UTF-8")
    assert response.status_code == 200
    assert Event.objects.get().name == "product_viewed"


def test_it_reads_gzip_bodies(client, server_source):
    batch = {"batch": [{"type": "track", "userId": "u", "event": f"e{i}"} for i in range(50)]}
    response = raw_post(client, "/v1/batch", gzip.compress(orjson.dumps(batch)), HTTP_CONTENT_ENCODING="gzip", **AUTH)
    assert response.status_code == 200
    assert Event.objects.count() == 50


def test_it_refuses_a_gzip_bomb_without_inflating_it(client, server_source):
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}")
    assert len(bomb) < 100_000
    response = raw_post(client, "/v1/batch", bomb, HTTP_CONTENT_ENCODING="gzip", **AUTH)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"


@pytest.mark.parametrize(
    "body,code",
    [
        (b"not gzip at all", "invalid_gzip"),
        (gzip.compress(b'{"userId": "u", "event": "e"}')[:-12], "invalid_gzip"),
    ],
)
def test_it_refuses_broken_gzip(client, server_source, body, code):
    response = raw_post(client, "/v1/track", body, HTTP_CONTENT_ENCODING="gzip", **AUTH)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_it_refuses_unknown_content_encodings(client, server_source):
    response = raw_post(client, "/v1/track", b"{}", HTTP_CONTENT_ENCODING="br", **AUTH)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_encoding"


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"{not json", b'{"userId": "u",}', b"NaN", b'{"a": 1e400}', b'"\\ud800"', b"\xff\xfe"],
)
def test_it_answers_invalid_json_with_400(client, server_source, body):
    response = raw_post(client, "/v1/track", body, **AUTH)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert response.json()["message"]


def test_a_single_message_over_32_kb_is_too_large(client, server_source):
    body = orjson.dumps({"userId": "u", "event": "e", "properties": {"blob": "x" * 33_000}})
    response = raw_post(client, "/v1/track", body, **AUTH)
    assert response.status_code == 413
    assert response.json()["code"] == "message_too_large"
    assert Event.objects.count() == 0


def test_a_batch_over_500_kb_is_too_large(client, server_source):
    items = [{"type": "track", "userId": "u", "event": "e", "properties": {"blob": "x" * 20_000}}] * 26
    response = raw_post(client, "/v1/batch", orjson.dumps({"batch": items}), **AUTH)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert Event.objects.count() == 0


def test_a_batch_of_more_than_2500_messages_is_too_large(client, server_source):
    items = [{"type": "track", "userId": "u", "event": "e"}] * 2501
    response = raw_post(client, "/v1/batch", orjson.dumps({"batch": items}), **AUTH)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"


def test_a_batch_of_2500_messages_is_accepted(client, server_source):
    items = [{"type": "track", "userId": "u", "event": "e", "messageId": str(i)} for i in range(2500)]
    response = raw_post(client, "/v1/batch", orjson.dumps({"batch": items}), **AUTH)
    assert response.status_code == 200
    assert Event.objects.count() == 2500


def test_a_batch_item_over_32_kb_is_rejected_alone(client, server_source):
    items = [
        {"type": "track", "userId": "u", "event": "small"},
        {"type": "track", "userId": "u", "event": "big", "properties": {"blob": "x" * 33_000}},
    ]
    response = raw_post(client, "/v1/batch", orjson.dumps({"batch": items}), **AUTH)
    assert response.status_code == 200
    assert response.json()["rejected"][0]["index"] == 1
    assert response.json()["rejected"][0]["code"] == "message_too_large"
    assert list(Event.objects.values_list("name", flat=True)) == ["small"]


def test_nul_characters_are_stored_safely_and_flagged(client, server_source):
    body = b'{"userId": "u", "event": "e", "properties": {"note": "a\\u0000b", "k\\u0000": 1}}'
    response = raw_post(client, "/v1/track", body, **AUTH)
    assert response.status_code == 200
    event = Event.objects.get()
    assert event.properties == {"note": "a\ufffdb", "k\ufffd": 1}
    assert "nul_replaced" in event.flags
