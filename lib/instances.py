"""Unsaved model instances built by the hundred on the ingest path (events, outbox rows)."""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model

M = TypeVar("M", bound=Model)


def instance_new(model: type[M], values: dict[str, Any]) -> M:
    """`model(**values)` at a third of the cost; values by attname (`workspace_id`, not `workspace`).

    Model.__init__ has a fast path for values given positionally in field order (the one Django
    takes for rows it reads); given keywords, it looks at each field for a related object, a
    property or a deferred value (18 µs per Delivery against 7, measured). Fields not given get
    their defaults, as with keywords; a name that is not a field's attname is refused.
    """
    fields = _fields(model)
    if not values.keys() <= fields.keys():
        raise TypeError(f"{model.__name__} has no field {sorted(values.keys() - fields.keys())}")
    return model(*[values[attname] if attname in values else default() for attname, default in fields.items()])


@functools.cache
def _fields(model: type[Model]) -> dict[str, Callable[[], Any]]:
    """attname → the field's default maker, in the order Model.__init__ takes positional values."""
    return {field.attname: field.get_default for field in model._meta.concrete_fields}
