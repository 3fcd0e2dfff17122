"""The OpenAPI description and the hot-path validator describe one contract."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from events.api import schema
from events.ingest.messages import Envelope, MessageRejected, message_read
from events.tests.test_endpoints import MESSAGES

ENVELOPE = Envelope(received_at=datetime(2026, 11, 20, tzinfo=UTC), max_future=timedelta(minutes=10))
INVALID = [
    ("track", {"userId": "u"}),
    ("track", {"userId": "u", "event": "e" * 256}),
    ("group", {"userId": "u"}),
    ("alias", {"previousId": "a"}),
    ("track", {"userId": "u", "event": "e", "properties": [1]}),
    ("track", {"userId": "u", "event": "e", "messageId": "m" * 201}),
]


def test_the_schema_documents_every_ingest_endpoint(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    document = orjson.loads(response.content)
    for path in ["identify", "track", "page", "screen", "group", "alias", "batch"]:
        operation = document["paths"][f"/v1/{path}"]["post"]
        assert set(operation["requestBody"]["content"]) == {"application/json", "text/plain"}
        assert {"200", "400", "401", "413"} <= set(operation["responses"])
    assert "/v1/projects/{write_key}/settings" in document["paths"]
    assert "/v1/t" not in document["paths"]  # the browser aliases are the same operations


@pytest.mark.parametrize("message_type", MESSAGES)
def test_valid_messages_pass_both_the_schema_and_the_hot_path(message_type):
    message = MESSAGES[message_type]
    assert schema.MESSAGE_REQUESTS[message_type](data=message).is_valid()
    assert message_read(message, envelope=ENVELOPE, message_type=message_type)["type"] == message_type


@pytest.mark.parametrize("message_type,message", INVALID)
def test_invalid_messages_fail_both_the_schema_and_the_hot_path(message_type, message):
    assert not schema.MESSAGE_REQUESTS[message_type](data=message).is_valid()
    with pytest.raises(MessageRejected):
        message_read(message, envelope=ENVELOPE, message_type=message_type)


def test_a_documented_batch_is_a_valid_batch():
    batch = {"batch": [{"type": kind, **message} for kind, message in MESSAGES.items()], "context": {"ip": "1"}}
    assert schema.BATCH_REQUEST(data=batch).is_valid()
