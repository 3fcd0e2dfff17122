"""The demo store's cart, kept in the Django session (the demo has no accounts and no order tables)."""

import secrets
from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase

from demo.catalog import CURRENCY, PRODUCTS, Product

SESSION_KEY = "demo_cart"


@dataclass(frozen=True, slots=True)
class Line:
    product: Product
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.product.price_cents * self.quantity

    @property
    def total(self) -> float:
        return self.total_cents / 100

    def item(self) -> dict:
        """One entry of order_completed's `items`."""
        return {
            "product_id": self.product.product_id,
            "sku": self.product.sku,
            "quantity": self.quantity,
            "price": self.product.price,
        }


@dataclass(frozen=True, slots=True)
class Cart:
    cart_id: str
    lines: list[Line]

    @property
    def value_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def value(self) -> float:
        return self.value_cents / 100

    def added_properties(self, line: Line) -> dict:
        """added_to_cart for one line, as the default tracking plan has it."""
        return {
            "cart_id": self.cart_id,
            "product_id": line.product.product_id,
            "sku": line.product.sku,
            "quantity": line.quantity,
            "price": line.product.price,
            "currency": CURRENCY,
        }

    def checkout_properties(self) -> dict:
        return {"cart_id": self.cart_id, "value": self.value, "currency": CURRENCY}


def cart_get(session: SessionBase) -> Cart:
    stored = session.get(SESSION_KEY) or {}
    lines = [
        Line(PRODUCTS[product_id], quantity)
        for product_id, quantity in stored.get("lines", {}).items()
        if product_id in PRODUCTS
    ]
    return Cart(cart_id=stored.get("cart_id") or "", lines=lines)


def cart_add(session: SessionBase, *, product: Product, quantity: int) -> tuple[Cart, Line]:
    """Add to the session's cart (a new cart gets its id here); returns the cart and the line as added."""
    stored = session.get(SESSION_KEY) or {"cart_id": f"cart_{secrets.token_hex(8)}", "lines": {}}
    stored["lines"][product.product_id] = stored["lines"].get(product.product_id, 0) + quantity
    session[SESSION_KEY] = stored
    return cart_get(session), Line(product, quantity)


def cart_clear(session: SessionBase) -> None:
    session.pop(SESSION_KEY, None)
