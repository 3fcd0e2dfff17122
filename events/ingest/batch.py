"""Reading many messages: each one accepted as Event fields or rejected with its reason."""

from dataclasses import dataclass, field

import orjson

from events.ingest.messages import Envelope, MessageRejected, message_read, value_scrub_nul

# What a rejected record keeps of a payload too large to keep whole.
REJECTED_EXCERPT_CHARS = 2048


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    code: str
    message: str
    field: str
    payload: object

    def as_response(self) -> dict:
        return {"index": self.index, "code": self.code, "message": self.message, "field": self.field}


@dataclass(slots=True)
class ReadMessages:
    accepted: list[dict] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def messages_read(
    messages: list, *, envelope: Envelope, max_message_bytes: int, in_batch: bool, message_type: str | None = None
) -> ReadMessages:
    """Read every message of a request; one bad message never costs the others.

    A batch item is measured on its own; a single message was measured as the request body.
    """
    result = ReadMessages()
    for index, raw in enumerate(messages):
        try:
            if in_batch and len(orjson.dumps(raw)) > max_message_bytes:
                raise MessageRejected("message_too_large", f"a message must be at most {max_message_bytes} bytes")
            result.accepted.append(message_read(raw, envelope=envelope, message_type=message_type))
        except MessageRejected as rejected:
            payload = _keepable(raw, envelope.may_contain_nul, max_message_bytes)
            result.rejected.append(Rejection(index, rejected.code, rejected.message, rejected.field, payload))
    return result


def _keepable(raw: object, may_contain_nul: bool, max_bytes: int) -> object:
    if may_contain_nul:
        raw, _ = value_scrub_nul(raw)
    text = orjson.dumps(raw)
    if len(text) <= max_bytes:
        return raw
    return {"truncated": True, "excerpt": text[:REJECTED_EXCERPT_CHARS].decode("utf-8", "replace")}
