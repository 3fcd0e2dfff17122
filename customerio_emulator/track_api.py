"""The Track API surface: which path is which operation, request bodies in, replies out.

A request goes through two steps. `plan_request` runs outside the store lock: it parses and validates the body
against `contract` and turns it into a `Plan`, a list of operations ready to apply. `apply_plan` runs with the
lock held and calls `operations`. Validation therefore never sees half-applied state, and a request refused
for its shape changes nothing.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from . import operations
from .contract import (
    MAX_BATCH_OPERATION_BYTES,
    MAX_BATCH_REQUEST_BYTES,
    MAX_ENTITY_REQUEST_BYTES,
    ContractError,
    check_device,
    check_event,
    check_identify,
    check_merge,
    check_unix_seconds,
    identifier_from_object,
    identifier_from_path,
    json_size,
)
from .state import Workspace

Operation = Callable[[Workspace, float], None]

V2_ACTIONS = (
    "identify",
    "event",
    "page",
    "screen",
    "delete",
    "suppress",
    "unsuppress",
    "merge",
    "add_device",
    "delete_device",
)

# Path shapes under /api/v1/customers/{identifier}: the tail after the identifier, then method -> route name.
_CUSTOMER_ROUTES: dict[tuple[str, ...], dict[str, str]] = {
    (): {"PUT": "identify", "DELETE": "delete"},
    ("events",): {"POST": "event"},
    ("suppress",): {"POST": "suppress"},
    ("unsuppress",): {"POST": "unsuppress"},
    ("devices",): {"PUT": "add_device"},
}
_FIXED_ROUTES: dict[tuple[str, ...], dict[str, str]] = {
    ("api", "v1", "events"): {"POST": "anonymous_event"},
    ("api", "v1", "merge_customers"): {"POST": "merge"},
    ("api", "v1", "accounts", "region"): {"GET": "region"},
    ("api", "v2", "entity"): {"POST": "entity"},
    ("api", "v2", "batch"): {"POST": "batch"},
}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: a JSON-able body (or an HTML string) with its status and extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """A matched Track API path; `identifier` and `device_id` are already percent-decoded."""

    name: str
    identifier: str | None = None
    device_id: str | None = None


@dataclass(frozen=True)
class Body:
    """A request body as received, and its JSON value when it parsed."""

    raw: bytes
    value: Any = None
    valid: bool = True

    @classmethod
    def parse(cls, raw: bytes) -> "Body":
        if not raw.strip():
            return cls(raw=raw, value=None)
        try:
            return cls(raw=raw, value=json.loads(raw))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return cls(raw=raw, valid=False)

    def for_log(self) -> Any:
        return self.value if self.valid else self.raw.decode("utf-8", errors="replace")


@dataclass
class Plan:
    """Validated operations for one request; `errors` holds v2 batch items already refused."""

    api: str
    operations: list[tuple[int | None, Operation]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    batch: bool = False


def v1_error(message: str, status: int = 400) -> Reply:
    # Contract "Limits": 400 bodies are {"meta": {"error": "..."}}.
    return Reply(status, {"meta": {"error": message}})


def match_route(method: str, segments: list[str]) -> Route | Reply:
    """Find the route for decoded path `segments` (the path split on '/' before decoding, so %2F survives)."""
    while len(segments) > 1 and segments[-1] == "":
        segments = segments[:-1]
    if len(segments) >= 4 and segments[:3] == ["api", "v1", "customers"]:
        tail = tuple(segments[4:])
        device_id = None
        if len(tail) == 2 and tail[0] == "devices":
            tail, device_id = ("devices", "*"), tail[1]
        methods = {**_CUSTOMER_ROUTES, ("devices", "*"): {"DELETE": "delete_device"}}.get(tail)
        identifier = segments[3]
    else:
        methods = _FIXED_ROUTES.get(tuple(segments))
        identifier = device_id = None
    if methods is None:
        return v1_error("Not Found", 404)
    if method not in methods:
        return Reply(405, {"meta": {"error": "Method Not Allowed"}}, {"Allow": ", ".join(sorted(methods))})
    return Route(methods[method], identifier=identifier, device_id=device_id)


def plan_request(route: Route, body: Body, *, base_url: str, region: str) -> Plan | Reply:
    """Validate a Track request into a `Plan`, or answer it straight away (bad input, region lookup)."""
    if route.name == "region":
        return Reply(200, {"url": base_url, "region": region, "environment_id": 1})
    if route.name == "entity":
        return _plan_entity(body)
    if route.name == "batch":
        return _plan_batch(body)
    if not body.valid:
        return v1_error("request body must be valid JSON")
    data = body.value if body.value is not None else {}
    if not isinstance(data, dict):
        return v1_error("request body must be a JSON object")
    try:
        return Plan(api="v1", operations=[(None, _plan_v1(route, data))])
    except ContractError as error:
        return v1_error(error.message)


def _plan_v1(route: Route, data: dict[str, Any]) -> Operation:
    if route.name == "anonymous_event":
        request = check_event(data)
        anonymous_id = data.get("anonymous_id") or None
        if anonymous_id is not None and not isinstance(anonymous_id, str):
            raise ContractError("anonymous_id must be a string", field="anonymous_id")
        return lambda ws, now: operations.event_track_anonymous(
            ws,
            anonymous_id=anonymous_id,
            request=request,
            now=now,
        )
    if route.name == "merge":
        merge = check_merge(data)
        return lambda ws, now: operations.person_merge(ws, request=merge, now=now)
    target = identifier_from_path(route.identifier or "")
    if route.name == "identify":
        identify = check_identify(data)
        return lambda ws, now: operations.person_identify(ws, target=target, request=identify, now=now)
    if route.name == "event":
        event = check_event(data)
        return lambda ws, now: operations.event_track(ws, target=target, request=event, now=now)
    if route.name == "add_device":
        device = check_device(data.get("device"), id_key="id", require_platform=True)
        return lambda ws, now: operations.device_add(ws, target=target, device=device, now=now)
    if route.name == "delete_device":
        device_id = route.device_id or ""
        return lambda ws, now: operations.device_delete(ws, target=target, device_id=device_id, now=now)
    return _simple_person_operation(route.name, target)


def _simple_person_operation(action: str, target: Any) -> Operation:
    service = {
        "delete": operations.person_delete,
        "suppress": operations.person_suppress,
        "unsuppress": operations.person_unsuppress,
    }[action]
    return lambda ws, now: service(ws, target=target, now=now)


def _plan_entity(body: Body) -> Plan | Reply:
    # Contract "Track API v2": entity "request < 32 KB".
    if len(body.raw) >= MAX_ENTITY_REQUEST_BYTES:
        return _v2_refusal(
            "too_large",
            "",
            f"request body must be smaller than {MAX_ENTITY_REQUEST_BYTES} bytes",
        )
    if not body.valid or not isinstance(body.value, dict):
        return _v2_refusal("invalid", "", "request body must be a JSON object")
    try:
        return Plan(api="v2", operations=[(None, _plan_v2_operation(body.value))])
    except ContractError as error:
        return Reply(400, {"errors": [error.as_v2_error()]})


def _plan_batch(body: Body) -> Plan | Reply:
    # Contract "Track API v2": batch "request <= 500 KB, each op <= 32 KB".
    if len(body.raw) > MAX_BATCH_REQUEST_BYTES:
        return _v2_refusal(
            "too_large",
            "",
            f"request body cannot be larger than {MAX_BATCH_REQUEST_BYTES} bytes",
        )
    if not body.valid or not isinstance(body.value, dict) or not isinstance(body.value.get("batch"), list):
        return _v2_refusal("invalid", "batch", 'request body must be {"batch": [operation, ...]}')
    plan = Plan(api="v2", batch=True)
    for index, op in enumerate(body.value["batch"]):
        try:
            if json_size(op) > MAX_BATCH_OPERATION_BYTES:
                raise ContractError(
                    f"operation cannot be larger than {MAX_BATCH_OPERATION_BYTES} bytes", reason="too_large"
                )
            plan.operations.append((index, _plan_v2_operation(op)))
        except ContractError as error:
            plan.errors.append({"batch_index": index, **error.as_v2_error()})
    return plan


def _v2_refusal(reason: str, field_name: str, message: str) -> Reply:
    return Reply(400, {"errors": [{"reason": reason, "field": field_name, "message": message}]})


def _plan_v2_operation(op: Any) -> Operation:
    """Validate one v2 operation (`type: "person"` only) into an operation."""
    if not isinstance(op, dict):
        raise ContractError("operation must be an object")
    if op.get("type") != "person":
        # Only people are emulated; objects and deliveries would be accepted by Customer.io but the project
        # does not send them, so they are refused rather than silently dropped.
        raise ContractError(
            f"type must be 'person', not {op.get('type')!r}",
            field="type",
            reason="required" if "type" not in op else "unsupported",
        )
    action = op.get("action")
    if action not in V2_ACTIONS:
        raise ContractError(
            f"action must be one of {', '.join(V2_ACTIONS)}",
            field="action",
            reason="required" if action is None else "invalid",
        )
    if action == "merge":
        if "identifiers" in op:
            raise ContractError("merge takes primary and secondary, not identifiers", field="identifiers")
        merge = check_merge(op)
        return lambda ws, now: operations.person_merge(ws, request=merge, now=now)
    target = identifier_from_object(op.get("identifiers"), field="identifiers")
    if action == "identify":
        attributes = op.get("attributes") if op.get("attributes") is not None else {}
        if not isinstance(attributes, dict):
            raise ContractError("attributes must be an object", field="attributes")
        identify = check_identify(attributes, field_prefix="attributes.")
        if op.get("timestamp") is not None:
            identify = replace(
                identify, timestamp=check_unix_seconds(op["timestamp"], label="timestamp", field="timestamp")
            )
        if op.get("cio_relationships") is not None:
            identify = replace(identify, relationships=op["cio_relationships"])
        return lambda ws, now: operations.person_identify(ws, target=target, request=identify, now=now)
    if action in ("event", "page", "screen"):
        event = check_event(op, data_key="attributes", event_type=action)
        return lambda ws, now: operations.event_track(ws, target=target, request=event, now=now)
    if action == "add_device":
        device = check_device(op.get("device"), id_key="token", require_platform=True)
        return lambda ws, now: operations.device_add(ws, target=target, device=device, now=now)
    if action == "delete_device":
        device_id = check_device(op.get("device"), id_key="token", require_platform=False).id
        return lambda ws, now: operations.device_delete(ws, target=target, device_id=device_id, now=now)
    return _simple_person_operation(action, target)


def apply_plan(plan: Plan, ws: Workspace, now: float) -> Reply:
    """Apply a plan's operations in order and shape the reply. The caller holds `Store.lock`."""
    errors = list(plan.errors)
    for index, operation in plan.operations:
        try:
            operation(ws, now)
        except ContractError as error:
            if plan.api == "v1":
                return v1_error(error.message)
            item = error.as_v2_error()
            errors.append({"batch_index": index, **item} if plan.batch else item)
    if not errors:
        return Reply(200, {})
    if plan.batch and len(errors) < len(plan.errors) + len(plan.operations):
        # Contract: 207 means the listed operations failed and every other one was accepted.
        return Reply(207, {"errors": sorted(errors, key=lambda e: e["batch_index"])})
    return Reply(400, {"errors": sorted(errors, key=lambda e: e.get("batch_index", 0))})
