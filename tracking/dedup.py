"""What makes two events the same thing, in retention terms (pure functions; services.py decides holds).

- order_completed: the same `order_id` (per workspace) is one purchase, whichever source reported it.
- added_to_cart: the same cart_id, product_id and quantity is one add (a double click, a re-render).
- product_viewed: the same product viewed by the same person (user id, else anonymous id) is one view.
"""

import hashlib
import json

from events.models import MAX_ID_CHARS

ORDER_EVENT = "order_completed"
STORM_EVENTS = ("added_to_cart", "product_viewed")


def dedup_key_for(fields: dict) -> str:
    """The event's de-duplication key (a digest: ids can be long), or "" when it has none."""
    name, properties = fields["name"], fields["properties"]
    if name == ORDER_EVENT:
        order_id = order_id_of(properties)
        return _digest(["order", order_id]) if order_id else ""
    if name == "added_to_cart":
        parts = [properties.get(key) for key in ("cart_id", "product_id", "quantity")]
    elif name == "product_viewed":
        parts = [fields["user_id"] or fields["anonymous_id"], properties.get("product_id")]
    else:
        return ""
    if any(part is None or part == "" or isinstance(part, dict | list) for part in parts):
        return ""
    return _digest([name, *parts])


def order_id_of(properties: dict) -> str:
    """An order's id as a string (a numeric id is its decimal string), or "" when it has none."""
    order_id = properties.get("order_id")
    if isinstance(order_id, bool) or not isinstance(order_id, str | int):
        return ""
    order_id = str(order_id).strip()
    return order_id if len(order_id) <= MAX_ID_CHARS else ""


def _digest(parts: list) -> str:
    # The standard library's encoder: orjson refuses integers beyond 64 bits, which JSON bodies may carry.
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()
