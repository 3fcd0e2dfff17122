"""The demo store's catalog: a few products in two collections, fixed in code."""

from dataclasses import dataclass

CURRENCY = "USD"


@dataclass(frozen=True, slots=True)
class Collection:
    collection_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    sku: str
    name: str
    price_cents: int
    category: str
    collection_id: str

    @property
    def price(self) -> float:
        # A JSON number, as the tracking plan asks (a Decimal would be serialized as a string).
        return self.price_cents / 100

    def viewed_properties(self) -> dict:
        """product_viewed, as the default tracking plan has it."""
        return {
            "product_id": self.product_id,
            "sku": self.sku,
            "name": self.name,
            "price": self.price,
            "currency": CURRENCY,
            "category": self.category,
        }


COLLECTIONS = {
    collection.collection_id: collection
    for collection in [Collection("coffee", "Coffee"), Collection("brewing-gear", "Brewing gear")]
}

PRODUCTS = {
    product.product_id: product
    for product in [
        Product("ethiopia-guji", "COF-ETH-250", "Ethiopia Guji, 250 g", 1450, "coffee", "coffee"),
        Product("colombia-huila", "COF-COL-250", "Colombia Huila, 250 g", 1300, "coffee", "coffee"),
        Product("gooseneck-kettle", "GEAR-KETTLE-1", "Gooseneck kettle", 5900, "gear", "brewing-gear"),
        Product("pour-over-dripper", "GEAR-DRIP-2", "Pour-over dripper", 2400, "gear", "brewing-gear"),
    ]
}


def collection_products(collection_id: str) -> list[Product]:
    return [product for product in PRODUCTS.values() if product.collection_id == collection_id]
