"""Applying a tracking plan to one message on the ingest hot path: plain dict work, no queries.

In order: name alias → property aliases → normalization → validation (with lossless coercions).
What arrived is kept (`received_name`, `received_properties`) only when something changed; every
change is a `normalizations` entry and every problem a `violations` entry on the event.

Coercions are lossless only: an integer where a string is planned becomes its decimal string
(a numeric product_id), a float with no fraction where an integer is planned becomes that integer.
A string where a number is planned is a violation and stays as it is — never silently 0.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from events.models import Event

MAX_VIOLATIONS = 50
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def name_fold(name: str) -> str:
    """The form names are matched in when no exact name or alias matches: 'Added to Cart' → 'addedtocart'."""
    return _NOT_ALNUM.sub("", name.lower())


def json_type(value: object) -> str | None:
    """The JSON type of a value as the plan names types (an integer is a number); None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class PropertyRule:
    name: str
    type: str
    required: bool = True
    allowed: frozenset[str] = frozenset()
    normalization: str = ""
    item_shape: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class EventRule:
    name: str
    block: bool
    properties: tuple[PropertyRule, ...]
    aliases: dict[str, str]  # property alias → planned name: this event's and the plan-wide ones


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    """A TrackingPlan read into dicts once, applied to every message of a request."""

    plan_id: int | None
    updated_at: datetime | None
    unplanned: str  # TrackingPlan.Unplanned
    storm_window: timedelta
    order_window: timedelta
    names: dict[str, str]  # a planned name or alias, exactly → planned name
    folded: dict[str, str]  # name_fold(name or alias) → planned name
    events: dict[str, EventRule]
    property_aliases: dict[str, str] = field(default_factory=dict)  # plan-wide, for unplanned events

    def canonical_name(self, name: str) -> str | None:
        return self.names.get(name) or self.folded.get(name_fold(name))


def plan_apply(plan: CompiledPlan, fields: dict) -> None:
    """Apply the plan to one message's Event fields (from events.ingest.messages), in place. track only."""
    if fields["type"] != Event.Type.TRACK:
        return
    normalizations: list[dict] = []
    violations: list[dict] = []
    received = fields["name"]
    name = plan.canonical_name(received)
    if name is not None and name != received:
        fields["name"] = name
        fields["received_name"] = received
        normalizations.append({"kind": "event_alias", "from": received, "to": name})
    rule = plan.events.get(name) if name is not None else None

    original = fields["properties"]
    properties = _aliases_apply(original, rule.aliases if rule else plan.property_aliases, normalizations)
    if rule is not None:
        if properties is original:
            properties = dict(original)  # what arrived stays untouched; every change below is recorded
        for prop in rule.properties:
            _property_apply(properties, prop, normalizations, violations)
        if rule.block:
            fields["hold"] = Event.Hold.BLOCKED
    elif plan.unplanned != "allow":
        violations.append({"kind": "unplanned_event", "event": fields["name"]})
        if plan.unplanned == "block":
            fields["hold"] = Event.Hold.BLOCKED

    if any(entry["kind"] != "event_alias" for entry in normalizations):
        fields["properties"] = properties
        fields["received_properties"] = original
    if normalizations:
        fields["normalizations"] = normalizations
    if violations:
        if len(violations) > MAX_VIOLATIONS:
            violations = [*violations[:MAX_VIOLATIONS], {"kind": "more", "count": len(violations) - MAX_VIOLATIONS}]
        fields["violations"] = violations


def _aliases_apply(properties: dict, aliases: dict[str, str], normalizations: list[dict]) -> dict:
    """Rename aliased keys where the planned key is absent (both present: the planned one wins, the alias stays).

    Keys keep their order; objects inside arrays (an order's items) are renamed too. Returns the
    same dict when nothing changed, a new one otherwise.
    """
    if not aliases:
        return properties
    result = properties
    if any(key in aliases and aliases[key] not in properties for key in properties):
        result = {}
        for key, value in properties.items():
            target = aliases.get(key)
            if target is not None and target not in properties:
                normalizations.append({"kind": "property_alias", "from": key, "to": target})
                key = target
            result[key] = value
    for key, value in result.items():
        if isinstance(value, list) and any(isinstance(item, dict) for item in value):
            seen: set[str] = set()
            items = [
                _item_aliases_apply(item, aliases, key, seen, normalizations) if isinstance(item, dict) else item
                for item in value
            ]
            if seen:
                if result is properties:
                    result = dict(properties)
                result[key] = items
    return result


def _item_aliases_apply(item: dict, aliases: dict[str, str], parent: str, seen: set, normalizations: list) -> dict:
    if not any(key in aliases and aliases[key] not in item for key in item):
        return item
    renamed = {}
    for key, value in item.items():
        target = aliases.get(key)
        if target is not None and target not in item:
            if key not in seen:
                seen.add(key)
                normalizations.append(
                    {"kind": "property_alias", "from": f"{parent}[].{key}", "to": f"{parent}[].{target}"}
                )
            key = target
        renamed[key] = value
    return renamed


def _property_apply(properties: dict, prop: PropertyRule, normalizations: list[dict], violations: list[dict]) -> None:
    """Normalize, coerce and validate one planned property of the event's own copy of its properties."""
    value = properties.get(prop.name)
    if isinstance(value, str) and prop.normalization:
        normalized = _normalize(value, prop.normalization)
        if normalized != value:
            value = _set(properties, prop.name, normalized)
            normalizations.append({"kind": prop.normalization, "property": prop.name})
    if value is None or (isinstance(value, str) and not value.strip()):
        if prop.required:
            violations.append({"kind": "missing_property", "property": prop.name})
        return
    checked = _typed(value, prop.type, prop.name, normalizations, violations)
    if checked is _WRONG:
        return
    if checked is not value:
        value = _set(properties, prop.name, checked)
    if prop.allowed and _allowed_form(value) not in prop.allowed:
        violations.append({"kind": "value_not_allowed", "property": prop.name, "value": _excerpt(value)})
    if prop.type == "array" and prop.item_shape:
        items = _items_check(value, prop, normalizations, violations)
        if items is not value:
            _set(properties, prop.name, items)


_WRONG = object()


def _typed(value: object, expected: str, path: str, normalizations: list[dict], violations: list[dict]) -> object:
    """The value if it has the expected type, its lossless coercion, or _WRONG (a violation recorded)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "string":
        if isinstance(value, str):
            return value
        if is_number and isinstance(value, int):
            normalizations.append({"kind": "coerced", "property": path, "from": "number", "to": "string"})
            return str(value)
    elif expected == "number":
        if is_number:
            return value
    elif expected == "integer":
        if is_number and isinstance(value, int):
            return value
        if is_number and value.is_integer():
            normalizations.append({"kind": "coerced", "property": path, "from": "number", "to": "integer"})
            return int(value)
    elif expected == "boolean":
        if isinstance(value, bool):
            return value
    elif expected == "array":
        if isinstance(value, list):
            return value
    elif expected == "object" and isinstance(value, dict):
        return value
    violations.append({"kind": "wrong_type", "property": path, "expected": expected, "received": json_type(value)})
    return _WRONG


def _items_check(items: list, prop: PropertyRule, normalizations: list[dict], violations: list[dict]) -> list:
    result = items
    coerced: set[str] = set()
    for index, item in enumerate(items):
        path = f"{prop.name}[{index}]"
        if not isinstance(item, dict):
            violations.append(
                {"kind": "wrong_type", "property": path, "expected": "object", "received": json_type(item)}
            )
            continue
        changed = None
        for key, expected in prop.item_shape:
            value = item.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                violations.append({"kind": "missing_property", "property": f"{path}.{key}"})
                continue
            item_normalizations: list[dict] = []
            checked = _typed(value, expected, f"{prop.name}[].{key}", item_normalizations, violations)
            if checked is _WRONG:
                violations[-1]["property"] = f"{path}.{key}"
            elif checked is not value:
                if changed is None:
                    changed = dict(item)
                changed[key] = checked
                if key not in coerced:  # one entry per item property, not per item
                    coerced.add(key)
                    normalizations += item_normalizations
        if changed is not None:
            if result is items:
                result = list(items)
            result[index] = changed
    return result


def _set(properties: dict, key: str, value: object) -> object:
    properties[key] = value
    return value


def _normalize(value: str, how: str) -> str:
    value = value.strip()
    if how == "lower":
        return value.lower()
    if how == "upper":
        return value.upper()
    return value


def _allowed_form(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _excerpt(value: object) -> object:
    return value[:100] if isinstance(value, str) else value
