"""Writes for the demo store: placing an order reports order_completed from the server side."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from demo.cart import Cart
from demo.catalog import CURRENCY
from events.ingest.batch import messages_read
from events.ingest.messages import Envelope
from events.services import StoredEvents, event_store_batch
from workspaces.models import Source


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    email: str
    revenue: float
    items: list[dict]


def order_place(*, cart: Cart, email: str, anonymous_id: str, source: Source) -> tuple[Order, StoredEvents]:
    """Turn the cart into an order and store its order_completed through the (server) source.

    The order id comes from the cart id and the messageId from the order id, so a checkout submitted
    twice is one order and one event: ingest drops the repeated messageId.
    """
    order = Order(
        order_id=cart.cart_id.replace("cart_", "order_", 1),
        email=email,
        revenue=cart.value,
        items=[line.item() for line in cart.lines],
    )
    now = timezone.now()
    message = {
        "type": "track",
        "event": "order_completed",
        "messageId": f"order_completed-{order.order_id}",
        # The browser's anonymous id (read from its first-party cookie) ties the order to the visit.
        "anonymousId": anonymous_id,
        "timestamp": now.isoformat(),
        "properties": {
            "order_id": order.order_id,
            "revenue": order.revenue,
            "currency": CURRENCY,
            "items": order.items,
        },
        "context": {"traits": {"email": email}, "library": {"name": "seam-demo-store", "version": "1"}},
    }
    # In-process, through the same reading and storing as POST /v1/batch with the server key.
    read = messages_read(
        [message],
        envelope=Envelope(received_at=now, max_future=timedelta(seconds=settings.SEAM_MAX_FUTURE_SECONDS)),
        max_message_bytes=settings.SEAM_MAX_MESSAGE_BYTES,
        in_batch=True,
    )
    return order, event_store_batch(source=source, read=read, received_at=now)
