"""Customer.io Track API bodies, built from Seam's records within the documented limits.

Limits (customerio-api.md): attribute name ≤ 150 bytes, value ≤ 1000 bytes, ≤ 300 attributes per
identify; event name ≤ 100 bytes; an operation ≤ 32 KB. What would break a limit is refused here,
with the reason kept on the delivery, instead of being sent to fail.
"""

from datetime import datetime

import orjson

from events.models import Event

MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_ATTRIBUTES = 300
MAX_EVENT_NAME_BYTES = 100
MAX_OP_BYTES = 32 * 1024
RESERVED_ATTRIBUTES = {"id", "email", "anonymous_id", "cio_id", "_update", "_timestamp"}


class PayloadRefused(Exception):
    """An operation Customer.io would refuse: it is failed at once with this reason, never retried."""


def unix_seconds(moment: datetime) -> int:
    """Customer.io timestamps are integer unix seconds (milliseconds would be misread)."""
    return int(moment.timestamp())


def identify_attributes(traits: dict) -> tuple[dict, list[str]]:
    """Flat attributes from traits, and the names left out (too long, too large, too many)."""
    attributes: dict = {}
    skipped: list[str] = []
    for name, value in traits.items():
        if value is None or name in RESERVED_ATTRIBUTES:
            continue
        if isinstance(value, dict | list):
            value = orjson.dumps(value).decode()  # the v1 identify takes flat values only
        too_long = len(name.encode()) > MAX_ATTRIBUTE_NAME_BYTES
        too_large = isinstance(value, str) and len(value.encode()) > MAX_ATTRIBUTE_VALUE_BYTES
        if too_long or too_large or len(attributes) >= MAX_ATTRIBUTES - 5:
            skipped.append(name[:MAX_ATTRIBUTE_NAME_BYTES])
            continue
        attributes[name] = value
    return attributes, skipped


def event_name(event: Event) -> str:
    """The Customer.io name of an event: its name, or for a page view the URL (Customer.io's convention)."""
    if event.type == Event.Type.PAGE:
        page = event.context.get("page") if isinstance(event.context.get("page"), dict) else {}
        name = event.properties.get("url") or page.get("url") or event.name or "page"
    else:
        name = event.name or event.type
    name = str(name).strip()
    if not name:
        raise PayloadRefused("event name must not be blank")
    if len(name.encode()) > MAX_EVENT_NAME_BYTES:
        raise PayloadRefused(f"event name cannot be longer than {MAX_EVENT_NAME_BYTES} bytes")
    return name


def event_op(event: Event, identifier: tuple[str, str]) -> dict:
    """A v2 batch operation for a known person's event, page or screen."""
    action = event.type if event.type in (Event.Type.PAGE, Event.Type.SCREEN) else "event"
    op = {
        "type": "person",
        "action": action,
        "identifiers": {identifier[0]: identifier[1]},
        "name": event_name(event),
        "id": event.pk,
        "timestamp": unix_seconds(event.timestamp),
        "attributes": event.properties,
    }
    op_size_check(op)
    return op


def anonymous_event_body(event: Event) -> dict:
    """A v1 anonymous event (v2 has no anonymous identifier)."""
    body = {
        "name": event_name(event),
        "anonymous_id": event.anonymous_id,
        "id": event.pk,
        "timestamp": unix_seconds(event.timestamp),
        "data": event.properties,
    }
    if event.type in (Event.Type.PAGE, Event.Type.SCREEN):
        body["type"] = event.type
    op_size_check(body)
    return body


def merge_op(primary: tuple[str, str], secondary: tuple[str, str]) -> dict:
    return {
        "type": "person",
        "action": "merge",
        "primary": {primary[0]: primary[1]},
        "secondary": {secondary[0]: secondary[1]},
    }


def person_op(action: str, identifier: tuple[str, str]) -> dict:
    """delete / suppress / unsuppress: no fields beyond the one identifier."""
    return {"type": "person", "action": action, "identifiers": {identifier[0]: identifier[1]}}


def op_size_check(op: dict) -> None:
    size = len(orjson.dumps(op))
    if size > MAX_OP_BYTES:
        raise PayloadRefused(f"operation is {size} bytes; Customer.io accepts at most {MAX_OP_BYTES}")
