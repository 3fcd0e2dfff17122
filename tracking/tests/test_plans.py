"""The default tracking plan at ingest: name aliases → property aliases → normalization → validation."""

import pytest

from events.models import Event
from tracking.models import PlannedEvent, PlannedProperty, TrackingPlan
from tracking.services import tracking_plan_ensure_default, tracking_plan_touch

CART = {"cart_id": "c-1", "product_id": "p-1", "sku": "S-1", "quantity": 2, "price": 14.5, "currency": "USD"}
VIEW = {"product_id": "p-1", "sku": "S-1", "price": 14.5, "currency": "USD", "category": "coffee"}
ITEM = {"product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 14.5}
ORDER = {"order_id": "o-1", "revenue": 14.5, "currency": "USD", "items": [ITEM]}


def stored() -> Event:
    return Event.objects.get(type=Event.Type.TRACK)


@pytest.mark.parametrize(
    "received", ["Added to Cart", "AddToCart", "AddedToCart_v2", "added to cart", "ADDED_TO_CART", "Product Added"]
)
def test_it_renames_an_aliased_event_and_keeps_the_name_as_received(server, received):
    server.track(received, CART)
    event = stored()
    assert event.name == "added_to_cart"
    assert event.received_name == received
    assert event.normalizations == [{"kind": "event_alias", "from": received, "to": "added_to_cart"}]
    assert event.violations == []
    assert event.received_properties is None  # the properties were fine as they came


def test_it_keeps_a_clean_event_as_it_came(server):
    server.track("added_to_cart", CART)
    event = stored()
    assert (event.name, event.received_name, event.properties) == ("added_to_cart", "", CART)
    assert event.normalizations == event.violations == []
    assert event.received_properties is None and event.hold == ""


@pytest.mark.parametrize(("alias", "name"), [("productId", "product_id"), ("product_sku", "sku")])
def test_it_renames_an_aliased_property(server, alias, name):
    received = {alias if key == name else key: value for key, value in CART.items()}
    server.track("added_to_cart", received)
    event = stored()
    assert event.properties == CART
    assert event.received_properties == received
    assert event.normalizations == [{"kind": "property_alias", "from": alias, "to": name}]
    assert event.violations == []


def test_the_planned_name_wins_when_both_arrive(server):
    server.track("added_to_cart", {**CART, "productId": "other"})
    event = stored()
    assert event.properties["product_id"] == "p-1" and event.properties["productId"] == "other"
    assert event.normalizations == []


def test_it_renames_aliased_properties_inside_order_items(server):
    server.track(
        "order_completed", {**ORDER, "items": [{"productId": "p-1", "product_sku": "S-1", "quantity": 1, "price": 2}]}
    )
    event = stored()
    assert event.properties["items"] == [{"product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 2}]
    assert {"kind": "property_alias", "from": "items[].productId", "to": "items[].product_id"} in event.normalizations
    assert event.violations == []


@pytest.mark.parametrize(
    ("prop", "received", "normalized", "kind"),
    [
        ("category", " Coffee ", "coffee", "lower"),
        ("category", "GEAR", "gear", "lower"),
        ("currency", "usd", "USD", "upper"),
        ("currency", " eur", "EUR", "upper"),
    ],
)
def test_it_normalizes_enums(server, prop, received, normalized, kind):
    server.track("product_viewed", {**VIEW, prop: received})
    event = stored()
    assert event.properties[prop] == normalized
    assert event.received_properties[prop] == received
    assert event.normalizations == [{"kind": kind, "property": prop}]


def test_it_trims_a_captured_email(server):
    server.track("email_captured", {"email": "  ada@shop.test "})
    event = stored()
    assert event.properties == {"email": "ada@shop.test"}
    assert event.normalizations == [{"kind": "trim", "property": "email"}]


def test_it_coerces_a_numeric_product_id_to_its_string(server):
    server.track("product_viewed", {**VIEW, "product_id": 1001})
    event = stored()
    assert event.properties["product_id"] == "1001"
    assert event.received_properties["product_id"] == 1001
    assert event.normalizations == [{"kind": "coerced", "property": "product_id", "from": "number", "to": "string"}]
    assert event.violations == []


def test_it_coerces_a_whole_float_quantity_to_an_integer(server):
    server.track("added_to_cart", {**CART, "quantity": 3.0})
    event = stored()
    assert event.properties["quantity"] == 3 and isinstance(event.properties["quantity"], int)
    assert event.violations == []


def test_it_coerces_numeric_product_ids_inside_items(server):
    server.track("order_completed", {**ORDER, "items": [{**ITEM, "product_id": 7}, {**ITEM, "product_id": 8}]})
    event = stored()
    assert [item["product_id"] for item in event.properties["items"]] == ["7", "8"]
    assert event.received_properties["items"][0]["product_id"] == 7
    assert event.normalizations == [
        {"kind": "coerced", "property": "items[].product_id", "from": "number", "to": "string"}
    ]


def test_a_string_price_is_a_violation_never_a_zero(server):
    server.track("added_to_cart", {**CART, "price": "14.50"})
    event = stored()
    assert event.properties["price"] == "14.50"
    assert event.violations == [{"kind": "wrong_type", "property": "price", "expected": "number", "received": "string"}]
    assert event.hold == ""  # allow mode: forwarded, flagged


@pytest.mark.parametrize(
    ("properties", "violation"),
    [
        ({k: v for k, v in CART.items() if k != "sku"}, {"kind": "missing_property", "property": "sku"}),
        ({**CART, "cart_id": "  "}, {"kind": "missing_property", "property": "cart_id"}),
        ({**CART, "currency": None}, {"kind": "missing_property", "property": "currency"}),
        (
            {**CART, "quantity": 1.5},
            {"kind": "wrong_type", "property": "quantity", "expected": "integer", "received": "number"},
        ),
        (
            {**CART, "quantity": True},
            {"kind": "wrong_type", "property": "quantity", "expected": "integer", "received": "boolean"},
        ),
        (
            {**CART, "product_id": 1.5},
            {"kind": "wrong_type", "property": "product_id", "expected": "string", "received": "number"},
        ),
        (
            {**CART, "sku": ["S-1"]},
            {"kind": "wrong_type", "property": "sku", "expected": "string", "received": "array"},
        ),
    ],
)
def test_it_records_each_property_violation(server, properties, violation):
    server.track("added_to_cart", properties)
    assert stored().violations == [violation]


@pytest.mark.parametrize(
    ("items", "violations"),
    [
        ("p-1", [{"kind": "wrong_type", "property": "items", "expected": "array", "received": "string"}]),
        ([{**ITEM, "sku": None}], [{"kind": "missing_property", "property": "items[0].sku"}]),
        (
            [ITEM, {**ITEM, "price": "2"}],
            [{"kind": "wrong_type", "property": "items[1].price", "expected": "number", "received": "string"}],
        ),
        (["p-1"], [{"kind": "wrong_type", "property": "items[0]", "expected": "object", "received": "string"}]),
    ],
)
def test_it_checks_the_shape_of_order_items(server, items, violations):
    server.track("order_completed", {**ORDER, "items": items})
    assert stored().violations == violations


def test_it_flags_an_unplanned_event_and_still_forwards_it(server):
    server.track("wishlist_added", {"product_id": "p-1"})
    event = stored()
    assert event.violations == [{"kind": "unplanned_event", "event": "wishlist_added"}]
    assert event.hold == "" and event.deliveries.count() == 1


def test_it_applies_plan_wide_property_aliases_to_unplanned_events(server):
    server.track("wishlist_added", {"productId": "p-1"})
    assert stored().properties == {"product_id": "p-1"}


def test_unplanned_events_pass_silently_when_the_plan_allows_them(server, workspace):
    plan = tracking_plan_ensure_default(workspace=workspace)
    plan.unplanned_events = TrackingPlan.Unplanned.ALLOW
    plan.save()
    tracking_plan_touch(plan=plan)
    server.track("wishlist_added", {"product_id": "p-1"})
    assert stored().violations == []


def test_it_records_a_value_not_allowed(server, workspace):
    plan = tracking_plan_ensure_default(workspace=workspace)
    PlannedProperty.objects.filter(event__plan=plan, event__name="added_to_cart", name="currency").update(
        allowed_values="USD\nEUR"
    )
    tracking_plan_touch(plan=plan)
    server.track("added_to_cart", {**CART, "currency": "gbp"})
    event = stored()
    assert event.properties["currency"] == "GBP"  # compared after normalization
    assert event.violations == [{"kind": "value_not_allowed", "property": "currency", "value": "GBP"}]


def test_it_applies_the_steps_in_order(server, workspace):
    """A renamed event's aliased property is normalized, then validated under its planned name."""
    plan = tracking_plan_ensure_default(workspace=workspace)
    plan.property_aliases.create(alias="productCategory", name="category")
    tracking_plan_touch(plan=plan)
    server.track("Product Viewed", {**{k: v for k, v in VIEW.items() if k != "category"}, "productCategory": " Tea"})
    event = stored()
    assert event.name == "product_viewed" and event.properties["category"] == "tea"
    assert [entry["kind"] for entry in event.normalizations] == ["event_alias", "property_alias", "lower"]
    assert event.violations == []


def test_other_message_types_are_not_planned(server, api):
    api.post("/v1/page", {"userId": "u-1", "name": "Added to Cart", "properties": {"productId": 1}}, format="json")
    api.post("/v1/identify", {"userId": "u-1", "traits": {"productId": 1}}, format="json")
    page = Event.objects.get(type="page")
    assert (page.name, page.properties) == ("Added to Cart", {"productId": 1})
    assert page.normalizations == page.violations == []


def test_a_workspace_gets_the_default_plan_at_its_first_track(server, workspace):
    assert not TrackingPlan.objects.filter(workspace=workspace).exists()
    server.track("added_to_cart", CART)
    plan = TrackingPlan.objects.get(workspace=workspace)
    assert set(plan.events.values_list("name", flat=True)) == {
        "product_viewed",
        "collection_viewed",
        "added_to_cart",
        "checkout_started",
        "email_captured",
        "order_completed",
    }
    items = PlannedProperty.objects.get(event__plan=plan, name="items")
    assert items.item_shape == {"product_id": "string", "sku": "string", "quantity": "integer", "price": "number"}


def test_an_edited_plan_applies_to_the_next_request(server, workspace):
    server.track("added_to_cart", CART)
    plan = TrackingPlan.objects.get(workspace=workspace)
    PlannedEvent.objects.filter(plan=plan, name="added_to_cart").update(aliases="Cart Add")
    tracking_plan_touch(plan=plan)
    server.track("Cart Add", CART)
    assert Event.objects.filter(name="added_to_cart").count() == 2
