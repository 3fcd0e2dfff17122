"""Reading many messages: each one accepted as Event fields or rejected with its reason."""

import re
from dataclasses import dataclass, field

import orjson

from events.ingest.messages import Envelope, MessageRejected, message_read, value_scrub_nul

# What a rejected record keeps of a payload too large to keep whole.
REJECTED_EXCERPT_CHARS = 2048
# Levels of objects and arrays one message may nest (far beyond any real event).
MAX_NESTING = 64
HUGE_NUMBER = 2.0**63
_HUGE_EXPONENT = re.compile(rb"\de\+(?:1[89]|[2-9]\d|\d{3})")


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
            encoded = _encoded_checked(raw)
            if in_batch and len(encoded) > max_message_bytes:
                raise MessageRejected("message_too_large", f"a message must be at most {max_message_bytes} bytes")
            result.accepted.append(message_read(raw, envelope=envelope, message_type=message_type))
        except MessageRejected as rejected:
            if rejected.code == "too_deep":
                raw = {"truncated": True, "excerpt": "nested too deep to keep"}
            payload = _keepable(raw, envelope.may_contain_nul, max_message_bytes)
            result.rejected.append(Rejection(index, rejected.code, rejected.message, rejected.field, payload))
    return result


def _encoded_checked(raw: object) -> bytes:
    """The message as JSON; MessageRejected when it cannot be stored and read back safely (both found by
    events/tests/test_hostile.py): nesting deeper than MAX_NESTING (orjson reads 1,024 levels but writes
    255, SQLite's JSON stops at 1,000), or a number of 2**63 or more (Postgres jsonb returns 1e308 as a
    309-digit integer, which no 64-bit JSON encoder can write again: a poison pill for forwarding)."""
    try:
        encoded = orjson.dumps(raw)
    except orjson.JSONEncodeError:
        encoded = b""
    # Only a message with more brackets than the limit can be too deep: most never need the walk.
    if not encoded or encoded.count(b"{") + encoded.count(b"[") > MAX_NESTING:
        stack = [(raw, 0)]
        while stack:
            value, depth = stack.pop()
            children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
            if children and depth >= MAX_NESTING:
                raise MessageRejected("too_deep", f"a message may nest objects and arrays at most {MAX_NESTING} deep")
            stack.extend((child, depth + 1) for child in children)
    # orjson writes large floats as 1e+19; only such an exponent (>= 18) can hide a number that large.
    if _HUGE_EXPONENT.search(encoded) and _has_huge_number(raw):
        raise MessageRejected("number_out_of_range", "numbers must be smaller than 2**63 (9.2e18) in magnitude")
    return encoded


def _has_huge_number(raw: object) -> bool:
    stack = [raw]
    while stack:
        value = stack.pop()
        if isinstance(value, float) and abs(value) >= HUGE_NUMBER:
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _keepable(raw: object, may_contain_nul: bool, max_bytes: int) -> object:
    if may_contain_nul:
        raw, _ = value_scrub_nul(raw)
    text = orjson.dumps(raw)
    if len(text) <= max_bytes:
        return raw
    return {"truncated": True, "excerpt": text[:REJECTED_EXCERPT_CHARS].decode("utf-8", "replace")}
