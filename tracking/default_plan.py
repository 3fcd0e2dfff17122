"""The default D2C retention tracking plan (product brief, "Default tracking plan"), seeded for every workspace.

Plain data, also read by the seeding migration: change it with a new migration if existing
workspaces must follow.
"""

ITEM_SHAPE = {"product_id": "string", "sku": "string", "quantity": "integer", "price": "number"}

# event → (name aliases, [(property, type, normalization, item shape)]); every property is required.
DEFAULT_EVENTS: dict[str, tuple[list[str], list[tuple[str, str, str, dict]]]] = {
    "product_viewed": (
        ["Product Viewed"],
        [
            ("product_id", "string", "", {}),
            ("sku", "string", "", {}),
            ("price", "number", "", {}),
            ("currency", "string", "upper", {}),
            ("category", "string", "lower", {}),
        ],
    ),
    "collection_viewed": (
        ["Collection Viewed", "Product List Viewed"],
        [("collection_id", "string", "", {})],
    ),
    "added_to_cart": (
        ["Added to Cart", "AddToCart", "AddedToCart_v2", "Product Added"],
        [
            ("cart_id", "string", "", {}),
            ("product_id", "string", "", {}),
            ("sku", "string", "", {}),
            ("quantity", "integer", "", {}),
            ("price", "number", "", {}),
            ("currency", "string", "upper", {}),
        ],
    ),
    "checkout_started": (
        ["Checkout Started", "InitiateCheckout"],
        [
            ("cart_id", "string", "", {}),
            ("value", "number", "", {}),
            ("currency", "string", "upper", {}),
        ],
    ),
    "email_captured": (
        ["Email Captured"],
        [("email", "string", "trim", {})],
    ),
    "order_completed": (
        ["Order Completed", "Purchase"],
        [
            ("order_id", "string", "", {}),
            ("revenue", "number", "", {}),
            ("currency", "string", "upper", {}),
            ("items", "array", "", ITEM_SHAPE),
        ],
    ),
}

# alias → planned name, for every event.
DEFAULT_PROPERTY_ALIASES = {
    "productId": "product_id",
    "product_sku": "sku",
    "cartId": "cart_id",
    "orderId": "order_id",
    "collectionId": "collection_id",
}


def default_plan_seed(plan, *, planned_event, planned_property, property_alias) -> None:
    """Fill an empty plan with the default events, properties and aliases.

    Takes the model classes so the seeding migration can pass its historical models.
    """
    events = planned_event.objects.bulk_create(
        [
            planned_event(plan=plan, name=name, aliases="\n".join(aliases))
            for name, (aliases, _) in DEFAULT_EVENTS.items()
        ]
    )
    planned_property.objects.bulk_create(
        [
            planned_property(
                event=event, name=name, type=type_, required=True, normalization=normalization, item_shape=shape
            )
            for event, (_, properties) in zip(events, DEFAULT_EVENTS.values(), strict=True)
            for name, type_, normalization, shape in properties
        ]
    )
    property_alias.objects.bulk_create(
        [property_alias(plan=plan, alias=alias, name=name) for alias, name in DEFAULT_PROPERTY_ALIASES.items()]
    )
