"""Formatting for the dashboards' templates: durations, JSON and dictionary lookups."""

import json

from django import template

register = template.Library()
NO_VALUE = "\u2013"  # an en dash: no figure


@register.filter
def duration_ms(value: float | None) -> str:
    """250 ms, 2 s, 5 min, 3 h, 2 d: a latency or an age a reader takes in at a glance."""
    if value is None or value == "":
        return NO_VALUE
    ms = float(value)
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


@register.filter
def duration_s(value: float | None) -> str:
    return NO_VALUE if value is None else duration_ms(float(value) * 1000)


@register.filter
def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key, "") if isinstance(mapping, dict) else ""


@register.filter
def compact(value: object) -> str:
    """A property value on one short line."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 48 else text[:47] + "…"


@register.filter
def words(value: object) -> str:
    """missing_property → missing property."""
    return str(value).replace("_", " ")
