"""A corpus of hostile payloads: each gets a clear 4xx {code, message} or is stored safely; nothing partial.

"Stored safely" means every stored row reads back and serializes (Postgres jsonb included); "nothing
partial" means a refused request stores no event, and a batch stores exactly its good items.
"""

import gzip

import orjson
import pytest

from conftest import SERVER_KEY
from events.models import Event, RejectedMessage

AUTH = {"HTTP_AUTHORIZATION": f"Bearer {SERVER_KEY}"}
TRACK = b'{"userId": "u-1", "event": "e", '


def nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_text(depth: int) -> bytes:
    return b'{"userId": "u", "event": "e", "properties": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


def js(value: object) -> bytes:
    return orjson.dumps(value)


CORPUS = {
    # --- structure
    "nesting 100 levels": ("/v1/track", js({"userId": "u", "event": "e", "properties": nested(100)})),
    "nesting 100,000 levels": ("/v1/track", nested_text(100_000)[:32_000]),
    "nesting 64 levels": ("/v1/track", js({"userId": "u", "event": "e", "properties": nested(62)})),
    "batch item nesting 300": (
        "/v1/batch",
        b'{"batch": [{"type": "track", "userId": "u", "event": "e", "properties": '
        + b'{"a": ' * 300
        + b"1"
        + b"}" * 300
        + b'}, {"type": "track", "userId": "v", "event": "e"}]}',
    ),
    "batch item nesting 1,000": (
        "/v1/batch",
        b'{"batch": [{"type": "track", "userId": "u", "event": "e", "properties": '
        + b"[" * 1000
        + b"]" * 1000
        + b"}]}",
    ),
    "array nesting 1,000": (
        "/v1/track",
        b'{"userId": "u", "event": "e", "properties": {"a": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
    ),
    "10,000-item batch": ("/v1/batch", js({"batch": [{"type": "track", "userId": "u", "event": "e"}] * 10_000})),
    "2,500-item batch": (
        "/v1/batch",
        js({"batch": [{"type": "track", "userId": f"u{n}", "event": "e"} for n in range(2500)]}),
    ),
    "empty batch": ("/v1/batch", b'{"batch": []}'),
    "batch of non-objects": (
        "/v1/batch",
        b'{"batch": [1, "x", null, [], true, {"type": "track", "userId": "u", "event": "e"}]}',
    ),
    "batch is an object": ("/v1/batch", b'{"batch": {"type": "track"}}'),
    "body is an array": ("/v1/track", b'[{"userId": "u", "event": "e"}]'),
    "body is a string": ("/v1/track", b'"hello"'),
    "body is null": ("/v1/track", b"null"),
    # --- sizes
    "31 KB string": ("/v1/track", js({"userId": "u", "event": "e", "properties": {"s": "x" * 31_000}})),
    "33 KB string": ("/v1/track", js({"userId": "u", "event": "e", "properties": {"s": "x" * 33_000}})),
    "10,000-char event name": ("/v1/track", js({"userId": "u", "event": "e" * 10_000})),
    "10,000-char user id": ("/v1/track", js({"userId": "u" * 10_000, "event": "e"})),
    "10,000-char message id": ("/v1/track", js({"userId": "u", "event": "e", "messageId": "m" * 10_000})),
    "10,000-char property key": ("/v1/track", js({"userId": "u", "event": "e", "properties": {"k" * 10_000: 1}})),
    "5,000 properties": (
        "/v1/track",
        js({"userId": "u", "event": "e", "properties": {f"p{n}": n for n in range(5000)}}),
    ),
    "1 MB write key in the body": ("/v1/t", js({"writeKey": "k" * 1_000_000, "userId": "u", "event": "e"})),
    # --- numbers
    "1e308": ("/v1/track", TRACK + b'"properties": {"n": 1e308}}'),
    "1e400": ("/v1/track", TRACK + b'"properties": {"n": 1e400}}'),
    "-1e400": ("/v1/track", TRACK + b'"properties": {"n": -1e400}}'),
    "2**64": ("/v1/track", TRACK + b'"properties": {"n": 18446744073709551616}}'),
    "2**63 - 1": ("/v1/track", TRACK + b'"properties": {"n": 9223372036854775807}}'),
    "-2**63": ("/v1/track", TRACK + b'"properties": {"n": -9223372036854775808}}'),
    "a 400-digit integer": ("/v1/track", TRACK + b'"properties": {"n": ' + b"9" * 400 + b"}}"),
    "5e-324": ("/v1/track", TRACK + b'"properties": {"n": 5e-324}}'),
    "NaN": ("/v1/track", TRACK + b'"properties": {"n": NaN}}'),
    "Infinity": ("/v1/track", TRACK + b'"properties": {"n": Infinity}}'),
    "-Infinity timestamp": ("/v1/track", TRACK + b'"timestamp": -Infinity}'),
    "integer user id": ("/v1/track", b'{"userId": 12345678901234567890, "event": "e"}'),
    "timestamp 10**30": ("/v1/track", TRACK + b'"timestamp": 1000000000000000000000000000000}'),
    "timestamp year 0": ("/v1/track", TRACK + b'"timestamp": "0000-01-01T00:00:00Z"}'),
    "timestamp year 9999": (
        "/v1/track",
        TRACK + b'"timestamp": "9999-12-31T23:59:59Z", "sentAt": "1970-01-01T00:00:00Z"}',
    ),
    # --- text
    "invalid UTF-8": ("/v1/track", TRACK + b'"properties": {"s": "\xff\xfe\xc3\x28"}}'),
    "overlong UTF-8": ("/v1/track", TRACK + b'"properties": {"s": "\xc0\xaf"}}'),
    "UTF-8 BOM": ("/v1/track", b"\xef\xbb\xbf" + TRACK + b'"properties": {}}'),
    "lone high surrogate": ("/v1/track", TRACK + b'"properties": {"s": "\\ud800"}}'),
    "lone low surrogate in a key": ("/v1/track", TRACK + b'"properties": {"\\udc00": 1}}'),
    "lone surrogate in the user id": ("/v1/track", b'{"userId": "\\ud83d", "event": "e"}'),
    "NUL escapes everywhere": (
        "/v1/identify",
        b'{"userId": "u\\u0000", "anonymousId": "\\u0000", "messageId": "m\\u0000", '
        b'"traits": {"k\\u0000": "v\\u0000", "email": "a\\u0000@b.co"}, "context": {"\\u0000": ["\\u0000"]}}',
    ),
    "raw NUL byte": ("/v1/track", TRACK + b'"properties": {"s": "a\x00b"}}'),
    "control characters": ("/v1/track", js({"userId": "u\x01\x1f\x7f", "event": "e\u2028\u2029", "properties": {}})),
    "emoji, RTL and zero-width ids": (
        "/v1/track",
        js({"userId": "👩‍💻\u202e\u200b", "event": "🛒", "anonymousId": "ـ"}),
    ),
    "not JSON at all": ("/v1/track", b"<xml>hi</xml>"),
    "truncated JSON": ("/v1/track", TRACK[:-2]),
    "trailing garbage": ("/v1/track", TRACK + b'"properties": {}} trailing'),
    "two documents": ("/v1/track", TRACK + b'"properties": {}}' + TRACK + b'"properties": {}}'),
    # --- keys
    "duplicate keys": (
        "/v1/track",
        b'{"userId": "a", "userId": "b", "event": "e", "event": "f", "messageId": "d", "messageId": "d2"}',
    ),
    "prototype pollution keys": (
        "/v1/identify",
        b'{"userId": "u", "__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}},'
        b' "traits": {"__proto__": {"isAdmin": true}, "constructor": "x", "hasOwnProperty": 1},'
        b' "context": {"__proto__": null}, "properties": {"prototype": {}}}',
    ),
    "prototype pollution in a batch": (
        "/v1/batch",
        b'{"batch": [{"type": "track", "userId": "u", "event": "__proto__", "properties": {"__proto__": {"x": 1}}}],'
        b' "__proto__": {"batch": []}, "context": {"constructor": {"prototype": 1}}}',
    ),
    "type is __proto__": ("/v1/batch", b'{"batch": [{"type": "__proto__", "userId": "u"}]}'),
    "duplicate message ids in a batch": (
        "/v1/batch",
        js({"batch": [{"type": "track", "userId": "u", "event": "e", "messageId": "same"}] * 3}),
    ),
}


WRONG_VALUES = {"null": None, "true": True, "zero": 0, "float": 1.5, "string": "s", "empty list": [],
                "list": [1, "a"], "empty object": {}, "object": {"a": {"b": 1}}}  # fmt: skip
MESSAGE_FIELDS = ["type", "userId", "anonymousId", "messageId", "event", "name", "properties", "traits", "context",
                  "integrations", "timestamp", "sentAt", "originalTimestamp", "groupId", "previousId",
                  "writeKey"]  # fmt: skip
BATCH_FIELDS = ["batch", "context", "integrations", "sentAt", "writeKey"]


def wrong_type_requests(field: str, *, on_batch: bool = False) -> dict:
    """`field` given each JSON type it should not have: in a batch item, in single messages, or on the batch."""
    base = {"type": "track", "userId": "u", "anonymousId": "a", "event": "e", "messageId": "m"}
    requests = {}
    for label, value in WRONG_VALUES.items():
        if not on_batch:
            requests[f"batch item {label}"] = ("/v1/batch", js({"batch": [{**base, field: value}]}))
            for path in ("/v1/track", "/v1/identify", "/v1/group", "/v1/alias"):
                message = {**base, "groupId": "g", "previousId": "p", field: value}
                requests[f"{path} {label}"] = (path, js(message))
        else:
            requests[f"batch {label}"] = ("/v1/batch", js({"batch": [base], field: value}))
    return requests


def _batch_in(body: bytes) -> list | None:
    """The items of a request, if it is a readable batch."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return data["batch"] if isinstance(data, dict) and isinstance(data.get("batch"), list) else None


def post(client, path: str, body: bytes, **extra):
    return client.generic("POST", path, body, content_type="application/json", **extra)


def assert_clear_or_stored(response, body: bytes, events_before: int, rejected_before: int) -> None:
    assert response.status_code < 500, response.content[:300]
    stored = Event.objects.count() - events_before
    if response.status_code >= 400:
        payload = response.json()
        assert isinstance(payload.get("code"), str) and isinstance(payload.get("message"), str), payload
        assert payload["code"] and payload["message"]
        assert stored == 0, "a refused request stored something"
        return
    assert response.status_code == 200
    # Stored safely: every new row reads back whole and serializes again.
    for event in Event.objects.order_by("-received_at", "-pk")[: max(stored, 0)]:
        orjson.dumps([event.properties, event.traits, event.context, event.integrations, event.flags])
        assert "\x00" not in event.user_id + event.anonymous_id + event.message_id + event.name
    rejected = len(response.json().get("rejected", []))
    assert RejectedMessage.objects.count() - rejected_before == rejected
    batch = _batch_in(body)
    if batch is not None and not rejected:  # every item stored, a repeated messageId once
        ids = [item.get("messageId") for item in batch]
        assert stored == len({i for i in ids if isinstance(i, str | int)}) + ids.count(None), (stored, ids[:5])
    elif batch is not None:
        assert stored <= len(batch) - rejected


@pytest.mark.parametrize("name", list(CORPUS))
def test_a_hostile_payload_gets_a_clear_4xx_or_is_stored_safely(client, server_source, name):
    path, body = CORPUS[name]
    events, rejected = Event.objects.count(), RejectedMessage.objects.count()
    assert_clear_or_stored(post(client, path, body, **AUTH), body, events, rejected)


@pytest.mark.parametrize("field", MESSAGE_FIELDS + [f"batch.{field}" for field in BATCH_FIELDS])
def test_a_wrong_type_at_any_field_gets_a_clear_4xx_or_is_stored_safely(client, server_source, field):
    requests = wrong_type_requests(field.removeprefix("batch."), on_batch=field.startswith("batch."))
    for name, (path, body) in requests.items():
        Event.objects.all().delete()  # a repeated messageId would be stored once: start clean each time
        events, rejected = Event.objects.count(), RejectedMessage.objects.count()
        try:
            assert_clear_or_stored(post(client, path, body, **AUTH), body, events, rejected)
        except AssertionError as error:
            raise AssertionError(f"{field}: {name}: {error}") from None


@pytest.mark.parametrize(
    ("name", "body", "headers"),
    [
        ("gzip bomb", gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}"), {"HTTP_CONTENT_ENCODING": "gzip"}),
        ("gzip of gzip", gzip.compress(gzip.compress(b'{"batch": []}')), {"HTTP_CONTENT_ENCODING": "gzip"}),
        ("gzip with trailing junk", gzip.compress(b'{"batch": []}') + b"junk", {"HTTP_CONTENT_ENCODING": "gzip"}),
        ("a 10 KB authorization header", b'{"batch": []}', {"HTTP_AUTHORIZATION": "Bearer " + "k" * 10_000}),
        ("non-ASCII authorization", b'{"batch": []}', {"HTTP_AUTHORIZATION": "Bearer ключ"}),
        ("basic with a colon-only key", b'{"batch": []}', {"HTTP_AUTHORIZATION": "Basic Og=="}),
        ("content-encoding list", b'{"batch": []}', {"HTTP_CONTENT_ENCODING": "gzip, gzip"}),
    ],
)
def test_hostile_encodings_and_headers(client, server_source, name, body, headers):
    events = Event.objects.count()
    response = post(client, "/v1/batch", body, **{**AUTH, **headers})
    assert response.status_code < 500
    if response.status_code >= 400:
        assert {"code", "message"} <= set(response.json())
    assert Event.objects.count() == events


def test_prototype_keys_are_plain_data(client, server_source):
    path, body = CORPUS["prototype pollution keys"]
    assert post(client, path, body, **AUTH).status_code == 200
    event = Event.objects.get()
    assert event.traits == {"__proto__": {"isAdmin": True}, "constructor": "x", "hasOwnProperty": 1}


@pytest.mark.parametrize(("name", "stored"), [("nesting 64 levels", 1), ("nesting 100 levels", 0)])
def test_nesting_is_limited_to_64_levels(client, server_source, name, stored):
    path, body = CORPUS[name]
    response = post(client, path, body, **AUTH)
    assert Event.objects.count() == stored
    assert response.status_code == 200 if stored else response.json()["code"] == "too_deep"


def test_a_too_deep_batch_item_costs_only_itself(client, server_source):
    path, body = CORPUS["batch item nesting 300"]
    response = post(client, path, body, **AUTH)
    assert response.json()["rejected"][0]["code"] == "too_deep"
    assert Event.objects.get().user_id == "v"


@pytest.mark.parametrize("name", ["1e308", "2**64"])
def test_numbers_postgres_would_return_as_huge_integers_are_refused(client, server_source, name):
    path, body = CORPUS[name]
    response = post(client, path, body, **AUTH)
    assert response.json()["code"] == "number_out_of_range"
    sku = post(client, "/v1/track", TRACK + b'"properties": {"sku": "1e+308", "n": 9.2e18}}', **AUTH)
    assert sku.status_code == 200  # the same text in a string, and a float under the limit, are fine


def test_nul_bytes_are_replaced_and_flagged(client, server_source):
    path, body = CORPUS["NUL escapes everywhere"]
    assert post(client, path, body, **AUTH).status_code == 200
    event = Event.objects.get()
    assert "nul_replaced" in event.flags
    assert event.user_id == "u\ufffd" and event.traits["k\ufffd"] == "v\ufffd"
