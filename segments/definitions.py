"""The ten data-sanity segments of the product brief: what each counts, what to expect, when it is breached.

Each definition is computed by segments/selectors.py on Postgres and SQLite alike. `now` is the
moment a segment is computed for; every window below is relative to it. Event times are the
events' corrected `timestamp`s; an order's report times are Seam's receive times.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import models


class Expectation(models.TextChoices):
    ZERO = "zero"  # breached by any member
    NEAR_ZERO = "near_zero"  # breached above a small threshold
    SHOULD_SHRINK = "should_shrink"  # breached when above its floor and larger than a day ago
    BOUNDED = "bounded"  # breached above its threshold
    INFORMATIONAL = "informational"  # never breached: context for the others


class Unit(models.TextChoices):
    PEOPLE = "people"  # live Person rows
    EVENTS = "events"  # Event rows
    ORDERS = "orders"  # tracking.OrderSeen rows, one per order_id
    PROPERTIES = "properties"  # (event name, property) pairs: tracking.selectors.PropertyDrift


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    title: str
    definition: str
    expectation: str
    unit: str
    threshold: int | None = None  # breach when count > threshold; should_shrink: the floor; None: never


SHRINK_COMPARED_WITH = timedelta(hours=24)  # should_shrink compares with the snapshot this long before

S1_WINDOW = timedelta(hours=6)
S2_PURCHASE_WINDOW = timedelta(days=1)
S3_WINDOW = timedelta(hours=2)
ORDERS_WINDOW = timedelta(days=7)  # S4, S5: orders last reported (S4) or first seen from a browser (S5) in it
S6_WINDOW = timedelta(hours=24)
S7_WINDOW = timedelta(days=7)
S8_WINDOW = timedelta(hours=24)
S9_OLDEST = timedelta(days=30)  # Customer.io keeps anonymous activity 30 days
S9_YOUNGEST = timedelta(days=25)

CART_EVENT = "added_to_cart"
CHECKOUT_EVENT = "checkout_started"
ORDER_EVENT = "order_completed"

SEGMENTS: dict[str, Segment] = {
    segment.key: segment
    for segment in [
        Segment(
            "S1",
            "Carts without an email",
            "Live people with an added_to_cart in the last 6 h whose email is blank: a cart-abandon email "
            "cannot reach them.",
            Expectation.SHOULD_SHRINK,
            Unit.PEOPLE,
            threshold=0,
        ),
        Segment(
            "S2",
            "Purchased yet still in the cart-abandon audience",
            "People in S3 (the cart-abandon audience) who purchased in the last 24 h: an order_completed on "
            "their own profile before their latest cart, or on another profile linked to them — the order "
            "carried one of their anonymous ids, or its person shares their folded email. A purchase landing on "
            "another profile through a broken identity shows up here.",
            Expectation.NEAR_ZERO,
            Unit.PEOPLE,
            threshold=2,
        ),
        Segment(
            "S3",
            "Cart-abandon audience",
            "Live people whose latest added_to_cart is in the last 2 h with no order_completed of theirs at or "
            "after it.",
            Expectation.INFORMATIONAL,
            Unit.PEOPLE,
        ),
        Segment(
            "S4",
            "Orders reported more than once",
            "Order ids reported in the last 7 days by more than one order_completed from server sources, or by "
            "more than one from browser sources (a browser report confirmed by a server one is the designed "
            "flow, not a duplicate). Only the first is forwarded; the others are held as duplicates.",
            Expectation.ZERO,
            Unit.ORDERS,
            threshold=0,
        ),
        Segment(
            "S5",
            "Browser-only orders",
            "Order ids first reported by a browser source in the last 7 days (at least the confirmation window "
            "ago) that no server source confirmed within the window (15 min by default).",
            Expectation.NEAR_ZERO,
            Unit.ORDERS,
            threshold=2,
        ),
        Segment(
            "S6",
            "Events breaking the tracking plan",
            "Track events of a planned name in the last 24 h with a violation: a required property missing, a "
            "wrong type, or a value not allowed. Broken down by event name.",
            Expectation.SHOULD_SHRINK,
            Unit.EVENTS,
            threshold=0,
        ),
        Segment(
            "S7",
            "Type drift",
            "Properties of one event name seen with more than one JSON type (as received, before coercion) "
            "among the types seen in the last 7 days, e.g. product_id as a number and as a string.",
            Expectation.ZERO,
            Unit.PROPERTIES,
            threshold=0,
        ),
        Segment(
            "S8",
            "Test or staging traffic in production",
            "In a production workspace, events of the last 24 h that say they are not production: "
            "context.environment is a non-production name; the page (context.page.url or a page's "
            "properties.url) is on a non-production hostname; an email in the event (userId, traits.email, "
            "properties.email, context.traits.email) or its person's email matches a test pattern. "
            "Always 0 in a staging or development workspace.",
            Expectation.ZERO,
            Unit.EVENTS,
            threshold=0,
        ),
        Segment(
            "S9",
            "Anonymous carts about to age out",
            "Live anonymous (never identified) people first seen 25 to 30 days ago whose anonymous ids carry an "
            "added_to_cart or checkout_started: Customer.io forgets anonymous activity after 30 days.",
            Expectation.INFORMATIONAL,
            Unit.PEOPLE,
        ),
        Segment(
            "S10",
            "Unusual anonymous ids",
            "Live people holding more anonymous ids than the workspace's limit (10 by default), and identified "
            "people sharing an anonymous id with another identified person (shared_device warnings).",
            Expectation.BOUNDED,
            Unit.PEOPLE,
            threshold=25,
        ),
    ]
}


def segment_is_breached(*, segment: Segment, count: int, threshold: int | None, earlier: int | None) -> bool:
    """Whether a count breaks its expectation; `earlier` is the count a day before (should_shrink only)."""
    if segment.expectation == Expectation.INFORMATIONAL or threshold is None:
        return False
    if segment.expectation == Expectation.SHOULD_SHRINK:
        return count > threshold and earlier is not None and count > earlier
    return count > threshold
