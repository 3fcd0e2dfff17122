"""Track API limits and request validation, with the exact 400 messages Customer.io documents.

Every check here is pure: it reads a decoded JSON value and either returns a normalized request object or
raises `ContractError`. Where the contract marks behaviour as undocumented ([?]) the emulator is stricter
than Customer.io on purpose, so the project finds out in tests rather than in production; those messages
are the emulator's own wording.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

# Limits table, contract Part 1 "Limits and their 400 messages".
MAX_ID_BYTES = 150
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_ATTRIBUTES_PER_IDENTIFY = 300
MAX_EVENT_NAME_BYTES = 100
MAX_EVENT_DATA_BYTES = 100_000

# Track API v2 table: entity "request < 32 KB", batch "request <= 500 KB, each op <= 32 KB". KB is read as
# 1024 bytes; a client that wants margin should cut batches well below 500,000 bytes.
MAX_ENTITY_REQUEST_BYTES = 32 * 1024  # exclusive: the request must be smaller than this
MAX_BATCH_OPERATION_BYTES = 32 * 1024
MAX_BATCH_REQUEST_BYTES = 500 * 1024

# A unix-seconds value above 1e11 is year 5138: it is a millisecond timestamp sent by mistake. The contract
# says never to send those ([?] how Customer.io reads them is undocumented), so the emulator refuses them.
MAX_PLAUSIBLE_UNIX_SECONDS = 10**11

EVENT_TYPES = ("event", "page", "screen")
DEVICE_PLATFORMS = ("ios", "android")
IDENTIFIER_KINDS = ("id", "email", "cio_id")

# A ULID is 26 characters of Crockford base32; the first is at most 7 because 26 chars encode 130 bits
# and a ULID has 128. Crockford decoding is case-insensitive.
ULID_PATTERN = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$", re.IGNORECASE)

# Identify keys with a meaning of their own (contract "Identify body"); they are not plain attributes.
IDENTIFY_CONTROL_KEYS = (
    "id",
    "email",
    "anonymous_id",
    "_timestamp",
    "_update",
    "cio_relationships",
    "cio_subscription_preferences",
)


class ContractError(Exception):
    """A request that breaks the contract; the message is what the client sees in the 400 body."""

    def __init__(self, message: str, *, field: str = "", reason: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason

    def as_v2_error(self) -> dict[str, Any]:
        return {"reason": self.reason, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Identifier:
    """One way to name a person: an `id`, an `email` or a `cio_id` (stored without the `cio_` prefix)."""

    kind: Literal["id", "email", "cio_id"]
    value: str

    @property
    def key(self) -> tuple[str, str]:
        # Email matching is case-insensitive (contract "Identifiers").
        return (self.kind, self.value.lower() if self.kind == "email" else self.value)

    def __str__(self) -> str:
        return f"cio_{self.value}" if self.kind == "cio_id" else self.value


@dataclass(frozen=True)
class IdentifyRequest:
    """A validated identify: plain attributes plus the reserved keys pulled out."""

    attributes: dict[str, Any]
    id: str | None = None
    email: str | None = None
    anonymous_id: str | None = None
    update_only: bool = False
    timestamp: int | None = None
    relationships: Any = None
    subscription_preferences: Any = None


@dataclass(frozen=True)
class EventRequest:
    """A validated event, page or screen."""

    name: str
    type: str = "event"
    id: str | None = None
    timestamp: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceRequest:
    """A validated device; v1 calls its key `id`, v2 calls it `token`."""

    id: str
    platform: str | None = None
    last_used: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeRequest:
    """A validated merge: the secondary is folded into the primary."""

    primary: Identifier
    secondary: Identifier


def utf8_len(value: str) -> int:
    return len(value.encode("utf-8"))


def json_size(value: Any) -> int:
    """Bytes of `value` re-serialized compactly, the way the v2 per-operation limit is measured."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check_person_id(value: Any, *, field: str = "id") -> str:
    # Integers are accepted because SDKs stringify them in paths; anything else is a project bug.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ContractError("id must be a non-empty string", field=field, reason="required")
    if utf8_len(value) > MAX_ID_BYTES:
        raise ContractError(f"id cannot be longer than {MAX_ID_BYTES} bytes", field=field, reason="too_long")
    return value


def check_email(value: Any, *, field: str = "email") -> str:
    if not isinstance(value, str) or "@" not in value:
        raise ContractError("email must be a string containing '@'", field=field)
    return value


def identifier_from_path(segment: str) -> Identifier:
    """Resolve a percent-decoded path identifier by its shape (contract "Identifiers")."""
    if segment.startswith("cio_"):
        if not segment[4:]:
            raise ContractError("cio_id must not be blank", field="identifier", reason="required")
        return Identifier("cio_id", segment[4:])
    if "@" in segment:
        return Identifier("email", segment)
    return Identifier("id", check_person_id(segment, field="identifier"))


def identifier_from_object(value: Any, *, field: str) -> Identifier:
    """Read a body identifier object (v2 `identifiers`, merge `primary`/`secondary`): exactly one key."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ContractError(
            f"{field} must be an object with exactly one of id, email, cio_id",
            field=field,
            reason="required" if not value else "invalid",
        )
    ((kind, raw),) = value.items()
    # anonymous_id is deliberately not accepted: it is not a v2 person identifier (contract "Track API v2").
    if kind not in IDENTIFIER_KINDS:
        raise ContractError(
            f"{field} must be one of id, email, cio_id, not '{kind}'",
            field=f"{field}.{kind}",
        )
    if kind == "id":
        return Identifier("id", check_person_id(raw, field=f"{field}.id"))
    if kind == "email":
        return Identifier("email", check_email(raw, field=f"{field}.email"))
    if not isinstance(raw, str) or not raw:
        raise ContractError("cio_id must be a non-empty string", field=f"{field}.cio_id", reason="required")
    if raw.startswith("cio_"):
        # The prefix belongs in paths, never in bodies (contract "Identifiers").
        raise ContractError("cio_id in a body must not carry the cio_ prefix", field=f"{field}.cio_id")
    return Identifier("cio_id", raw)


def check_unix_seconds(value: Any, *, label: str, field: str) -> int:
    """Timestamps are integer unix seconds; floats and millisecond values are refused, never guessed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContractError(f"{label} must be integer unix seconds", field=field)
    if isinstance(value, float):
        raise ContractError(f"{label} must be integer unix seconds, not a float", field=field)
    if value > MAX_PLAUSIBLE_UNIX_SECONDS:
        raise ContractError(f"{label} looks like milliseconds; send integer unix seconds", field=field)
    if value < 0:
        raise ContractError(f"{label} must not be negative", field=field)
    return value


def check_attributes(attributes: Any, *, field_prefix: str = "") -> dict[str, Any]:
    """Check a flat attribute map against the name, value and count limits."""
    if not isinstance(attributes, dict):
        raise ContractError("attributes must be an object", field=field_prefix.rstrip(".") or "attributes")
    if len(attributes) > MAX_ATTRIBUTES_PER_IDENTIFY:
        raise ContractError(
            f"cannot identify more than {MAX_ATTRIBUTES_PER_IDENTIFY} attributes in one request",
            field=field_prefix.rstrip(".") or "attributes",
            reason="too_many",
        )
    for name, value in attributes.items():
        where = f"{field_prefix}{name}"
        if utf8_len(name) > MAX_ATTRIBUTE_NAME_BYTES:
            raise ContractError(
                f"attribute name cannot be longer than {MAX_ATTRIBUTE_NAME_BYTES} bytes",
                field=where,
                reason="too_long",
            )
        # The contract says attributes are flat (string, number, boolean); null clears one. Nested values
        # are refused so the project flattens traits before sending.
        if isinstance(value, dict | list):
            raise ContractError(
                f"value for attribute '{name}' must be a string, number or boolean",
                field=where,
            )
        size = utf8_len(value) if isinstance(value, str) else json_size(value)
        if size > MAX_ATTRIBUTE_VALUE_BYTES:
            raise ContractError(
                f"value for attribute '{name}' cannot be longer than {MAX_ATTRIBUTE_VALUE_BYTES} bytes",
                field=where,
                reason="too_long",
            )
    return dict(attributes)


def check_identify(body: dict[str, Any], *, field_prefix: str = "") -> IdentifyRequest:
    """Validate a v1 identify body (or v2 identify `attributes`): reserved keys out, the rest attributes."""
    attributes = {k: v for k, v in body.items() if k not in IDENTIFY_CONTROL_KEYS}
    check_attributes(attributes, field_prefix=field_prefix)
    person_id = body.get("id")
    email = body.get("email")
    anonymous_id = body.get("anonymous_id")
    update_only = body.get("_update", False)
    timestamp = body.get("_timestamp")
    if person_id is not None:
        person_id = check_person_id(person_id, field=f"{field_prefix}id")
    if email is not None and email != "":
        email = check_email(email, field=f"{field_prefix}email")
    if anonymous_id is not None and (not isinstance(anonymous_id, str) or not anonymous_id):
        raise ContractError("anonymous_id must be a non-empty string", field=f"{field_prefix}anonymous_id")
    if not isinstance(update_only, bool):
        raise ContractError("_update must be a boolean", field=f"{field_prefix}_update")
    if timestamp is not None:
        timestamp = check_unix_seconds(timestamp, label="_timestamp", field=f"{field_prefix}_timestamp")
    if "created_at" in attributes and attributes["created_at"] is not None:
        check_unix_seconds(attributes["created_at"], label="created_at", field=f"{field_prefix}created_at")
    return IdentifyRequest(
        attributes=attributes,
        id=person_id,
        email=email or None,
        anonymous_id=anonymous_id,
        update_only=update_only,
        timestamp=timestamp,
        relationships=body.get("cio_relationships"),
        subscription_preferences=body.get("cio_subscription_preferences"),
    )


def check_event(
    body: dict[str, Any],
    *,
    data_key: str = "data",
    event_type: str | None = None,
) -> EventRequest:
    """Validate an event body. v1 carries the data in `data`, v2 in `attributes` with the type as action."""
    name = body.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise ContractError("event name must not be blank", field="name", reason="required")
    if not isinstance(name, str):
        raise ContractError("event name must be a string", field="name")
    name = name.strip()
    if utf8_len(name) > MAX_EVENT_NAME_BYTES:
        raise ContractError(
            f"event name cannot be longer than {MAX_EVENT_NAME_BYTES} bytes", field="name", reason="too_long"
        )
    if event_type is None:
        event_type = body.get("type") or "event"
        if event_type not in EVENT_TYPES:
            raise ContractError("event type must be one of event, page, screen", field="type")
    event_id = body.get("id")
    if event_id is not None:
        # The id is the de-duplication key; the contract requires a ULID. Anything else is refused so a
        # uuid4 or an integer never silently disables de-duplication.
        if not isinstance(event_id, str) or not ULID_PATTERN.match(event_id):
            raise ContractError("event id must be a ULID (26 Crockford base32 characters)", field="id")
        event_id = event_id.upper()
    timestamp = body.get("timestamp")
    if timestamp is not None:
        timestamp = check_unix_seconds(timestamp, label="event timestamp", field="timestamp")
    data = body.get(data_key)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ContractError("event data must be a hash", field=data_key)
    if json_size(data) > MAX_EVENT_DATA_BYTES:
        raise ContractError(
            f"event data cannot be longer than {MAX_EVENT_DATA_BYTES} bytes",
            field=data_key,
            reason="too_long",
        )
    return EventRequest(name=name, type=event_type, id=event_id, timestamp=timestamp, data=data)


def check_device(body: Any, *, id_key: str, require_platform: bool) -> DeviceRequest:
    """Validate a device object: v1 `{"id", "platform", ...}`, v2 `{"token", "platform", ...}`."""
    if not isinstance(body, dict):
        raise ContractError("device must be an object", field="device", reason="required")
    device_id = body.get(id_key)
    if not isinstance(device_id, str) or not device_id.strip():
        raise ContractError(f"device {id_key} must not be blank", field=f"device.{id_key}", reason="required")
    platform = body.get("platform")
    if require_platform and platform not in DEVICE_PLATFORMS:
        raise ContractError("device platform must be one of ios, android", field="device.platform")
    last_used = body.get("last_used")
    if last_used is not None:
        last_used = check_unix_seconds(last_used, label="device last_used", field="device.last_used")
    attributes = body.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ContractError("device attributes must be an object", field="device.attributes")
    return DeviceRequest(id=device_id, platform=platform, last_used=last_used, attributes=attributes)


def check_merge(body: dict[str, Any]) -> MergeRequest:
    return MergeRequest(
        primary=identifier_from_object(body.get("primary"), field="primary"),
        secondary=identifier_from_object(body.get("secondary"), field="secondary"),
    )
