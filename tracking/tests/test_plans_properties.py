"""Property tests (hypothesis) for the tracking plan's normalizers: whatever arrives, nothing is lost, coercions
are lossless, normalization is a fixed point, and every spelling of a name alias finds its event."""

import copy
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracking.plans import CompiledPlan, EventRule, PropertyRule, name_fold, plan_apply

RULE = EventRule(
    name="added_to_cart",
    block=False,
    properties=(
        PropertyRule("product_id", "string"),
        PropertyRule("quantity", "integer"),
        PropertyRule("price", "number", required=False),
        PropertyRule("category", "string", required=False, normalization="lower"),
        PropertyRule("currency", "string", required=False, normalization="upper"),
        PropertyRule("items", "array", required=False, item_shape=(("product_id", "string"), ("quantity", "integer"))),
    ),
    aliases={"productId": "product_id", "qty": "quantity"},
)
PLAN = CompiledPlan(
    plan_id=1,
    updated_at=None,
    unplanned="allow",
    storm_window=timedelta(seconds=10),
    order_window=timedelta(hours=1),
    names={"added_to_cart": "added_to_cart", "Added to Cart": "added_to_cart"},
    folded={name_fold("added_to_cart"): "added_to_cart", name_fold("Added to Cart"): "added_to_cart"},
    events={"added_to_cart": RULE},
)
KEYS = ["product_id", "productId", "quantity", "qty", "price", "category", "currency", "items", "other"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
)
items = st.lists(st.dictionaries(st.sampled_from(["product_id", "quantity", "name"]), json_values, max_size=3))
properties = st.dictionaries(st.sampled_from(KEYS), json_values | items, max_size=len(KEYS))


def applied(props: dict) -> dict:
    fields = {"type": "track", "name": "added_to_cart", "properties": props}
    plan_apply(PLAN, fields)
    return fields


@given(properties)
def test_what_arrived_is_kept_untouched(props):
    arrived = copy.deepcopy(props)
    fields = applied(props)
    assert props == arrived  # the message's own dict is never changed in place
    if fields["properties"] is not props:
        assert fields["received_properties"] == arrived


@given(properties)
def test_applying_the_plan_again_changes_nothing(props):
    once = applied(props)["properties"]
    twice = applied(copy.deepcopy(once))
    assert twice["properties"] == once
    assert not [n for n in twice.get("normalizations", []) if n["kind"] != "event_alias"]


@given(st.integers())
def test_a_numeric_product_id_becomes_its_exact_decimal_string(number):
    product_id = applied({"product_id": number, "quantity": 1})["properties"]["product_id"]
    assert product_id == str(number) and int(product_id) == number


@given(st.text(min_size=1).filter(str.strip))  # a blank value counts as missing, and price is optional
def test_a_string_where_a_number_is_planned_stays_and_is_a_violation(text):
    fields = applied({"product_id": "p", "quantity": 1, "price": text})
    assert fields["properties"]["price"] == text  # never silently 0
    assert {"kind": "wrong_type", "property": "price", "expected": "number", "received": "string"} in fields[
        "violations"
    ]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_quantity_is_coerced_only_when_no_fraction_is_lost(number):
    fields = applied({"product_id": "p", "quantity": number})
    quantity = fields["properties"]["quantity"]
    if number.is_integer():
        assert quantity == int(number) and isinstance(quantity, int)
    else:
        assert quantity == number
        assert any(v["kind"] == "wrong_type" and v["property"] == "quantity" for v in fields["violations"])


separators = st.lists(st.sampled_from(["", " ", "_", "-", "."]), min_size=3, max_size=3)


@given(separators, st.lists(st.booleans(), min_size=14, max_size=14))
def test_every_spelling_of_an_alias_finds_the_planned_event(between, upper):
    name = "".join(word + separator for word, separator in zip(["added", "to", "cart"], between, strict=True))
    name = "".join(char.upper() if up else char for char, up in zip(name, upper[: len(name)], strict=True))
    assert PLAN.canonical_name(name) == "added_to_cart"
