"""instance_new: the same unsaved instance as the model's own constructor, by the positional path."""

from datetime import UTC, datetime

import pytest

from events.models import Event
from forwarding.models import Delivery
from lib.instances import instance_new

AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Delivery, {"workspace_id": 1, "lane": "p:1", "kind": "event", "request": {"op": {}}, "next_attempt_at": AT}),
        (Event, {"id": "01J", "workspace_id": 1, "source_id": 2, "type": "track", "received_at": AT, "timestamp": AT}),
    ],
)
def test_it_builds_what_the_constructor_builds(model, values):
    built, expected = instance_new(model, values), model(**values)
    for field in model._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(expected, field.attname), field.name
    assert built._state.adding


def test_each_instance_gets_its_own_mutable_defaults():
    first, second = (instance_new(Event, {"id": str(n)}) for n in range(2))
    first.properties["changed"] = True
    assert second.properties == {}


def test_a_name_that_is_not_an_attname_is_refused():
    with pytest.raises(TypeError, match="workspace"):
        instance_new(Delivery, {"workspace": None})
