"""Reading one Segment-spec message into the fields of an Event, without serializer overhead.

This is the ingest hot path: plain dict checks, one pass per message. The same contract is
described for OpenAPI by the serializers in events/api/schema.py; tests hold the two together.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from events.ingest.timestamps import TimestampError, timestamp_correct, timestamp_parse
from events.models import MAX_ID_CHARS, MAX_MESSAGE_ID_CHARS, MAX_NAME_CHARS

MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
NUL_REPLACEMENT = "\ufffd"


class MessageRejected(Exception):
    """A message that cannot be stored, with a stable code and a message naming the field."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a request says about all of its messages."""

    received_at: datetime
    max_future: timedelta
    sent_at: object = None  # a batch's sentAt, unparsed
    context: dict | None = None  # a batch's top-level context, applied to each item
    integrations: dict | None = None
    may_contain_nul: bool = False  # the body had a \u0000 escape somewhere


def message_read(raw: object, *, envelope: Envelope, message_type: str | None = None) -> dict:
    """The Event fields for one message; raises MessageRejected. `message_type` comes from the endpoint."""
    if not isinstance(raw, dict):
        raise MessageRejected("invalid_message", "each message must be a JSON object")
    flags: list[str] = []
    if envelope.may_contain_nul:
        raw, changed = value_scrub_nul(raw)
        if changed:
            flags.append("nul_replaced")

    kind = message_type or raw.get("type")
    if kind not in MESSAGE_TYPES:
        raise MessageRejected("invalid_type", f"type must be one of {', '.join(MESSAGE_TYPES)}", "type")

    user_id = _identifier(raw, "userId")
    anonymous_id = _identifier(raw, "anonymousId")
    fields = {
        "type": kind,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "message_id": _identifier(raw, "messageId", limit=MAX_MESSAGE_ID_CHARS),
        "context": _object(raw, "context", base=envelope.context),
        "integrations": _object(raw, "integrations", base=envelope.integrations),
        "name": "",
        "previous_id": "",
        "group_id": "",
        "properties": {},
        "traits": {},
    }

    if kind == "alias":
        fields["previous_id"] = _identifier(raw, "previousId")
        if not fields["previous_id"] or not user_id:
            raise MessageRejected("missing_field", "alias needs previousId and userId", "previousId")
    elif not user_id and not anonymous_id:
        raise MessageRejected("missing_identity", "userId or anonymousId is required", "userId")

    if kind == "track":
        fields["name"] = _name(raw, "event", required=True)
        fields["properties"] = _object(raw, "properties")
    elif kind in ("page", "screen"):
        fields["name"] = _name(raw, "name", required=False)
        fields["properties"] = _object(raw, "properties")
    elif kind == "identify":
        fields["traits"] = _object(raw, "traits")
    elif kind == "group":
        fields["group_id"] = _identifier(raw, "groupId")
        if not fields["group_id"]:
            raise MessageRejected("missing_field", "groupId is required", "groupId")
        fields["traits"] = _object(raw, "traits")

    original = _timestamp(raw, "originalTimestamp") or _timestamp(raw, "timestamp")
    sent_at = _timestamp(raw, "sentAt") or _timestamp({"sentAt": envelope.sent_at}, "sentAt")
    timestamp, clamped = timestamp_correct(
        received_at=envelope.received_at, original=original, sent_at=sent_at, max_future=envelope.max_future
    )
    if clamped:
        flags.append("timestamp_clamped")
    fields.update(
        original_timestamp=original,
        sent_at=sent_at,
        received_at=envelope.received_at,
        timestamp=timestamp,
        flags=flags,
    )
    return fields


def _identifier(raw: dict, key: str, limit: int = MAX_ID_CHARS) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MessageRejected("invalid_field", f"{key} must be a string", key)
    value = str(value)
    if len(value) > limit:
        raise MessageRejected("invalid_field", f"{key} must be at most {limit} characters", key)
    return value


def _name(raw: dict, key: str, *, required: bool) -> str:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise MessageRejected("missing_field", f"{key} is required", key)
        return ""
    if not isinstance(value, str):
        raise MessageRejected("invalid_field", f"{key} must be a string", key)
    if required and not value.strip():
        raise MessageRejected("missing_field", f"{key} must not be blank", key)
    if len(value) > MAX_NAME_CHARS:
        raise MessageRejected("invalid_field", f"{key} must be at most {MAX_NAME_CHARS} characters", key)
    return value


def _object(raw: dict, key: str, base: dict | None = None) -> dict:
    value = raw.get(key)
    if value is None:
        return dict(base) if base else {}
    if not isinstance(value, dict):
        raise MessageRejected("invalid_field", f"{key} must be a JSON object", key)
    return {**base, **value} if base else value


def _timestamp(raw: dict, key: str) -> datetime | None:
    try:
        return timestamp_parse(raw.get(key))
    except TimestampError as error:
        raise MessageRejected("invalid_timestamp", f"{key} {error}", key) from None


def value_scrub_nul(value: object) -> tuple[object, bool]:
    """Replace NUL characters, which neither Postgres text nor jsonb can hold, in keys and strings."""
    if isinstance(value, str):
        return (value.replace("\x00", NUL_REPLACEMENT), True) if "\x00" in value else (value, False)
    if isinstance(value, dict):
        changed = False
        result = {}
        for key, item in value.items():
            new_key, key_changed = value_scrub_nul(key)
            result[new_key], item_changed = value_scrub_nul(item)
            changed = changed or key_changed or item_changed
        return result, changed
    if isinstance(value, list):
        items = [value_scrub_nul(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    return value, False
