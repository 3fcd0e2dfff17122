"""The demo store's server side, without a browser: pages, the cart and the server-side order."""

import json

import pytest

from demo.cart import cart_add, cart_get
from demo.catalog import PRODUCTS
from demo.services import order_place
from events.models import Event, RejectedMessage
from privacy.identifiers import identifier_digest
from privacy.models import SuppressedIdentifier
from workspaces.models import Source


def sent_by_page(response) -> list:
    """The (event, properties) pairs a store page hands to seam.js."""
    html = response.content.decode()
    start = html.index('<script id="seam-track" type="application/json">') + len(
        '<script id="seam-track" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_it_is_not_there_without_the_demo_workspace(client, db):
    assert client.get("/shop/").status_code == 404


def test_it_loads_seam_with_the_demo_browser_key(client, demo_sources):
    response = client.get("/shop/")
    assert response.status_code == 200
    assert b"pk_demo_browser_write_key" in response.content
    assert b"/static/seam/seam.js" in response.content
    assert b"sk_demo" not in response.content


def test_it_sends_added_to_cart_once(client, demo_sources):
    client.post("/shop/cart/add/", {"product_id": "gooseneck-kettle", "quantity": "3"})
    ((name, properties),) = sent_by_page(client.get("/shop/cart/"))
    assert name == "added_to_cart" and properties["quantity"] == 3 and properties["price"] == 59.0
    assert sent_by_page(client.get("/shop/cart/")) == []  # a reload sends nothing more


def test_it_refuses_an_invalid_email_at_checkout(client, demo_sources):
    client.post("/shop/cart/add/", {"product_id": "gooseneck-kettle"})
    response = client.post("/shop/checkout/", {"email": "not-an-email"})
    assert response.status_code == 400
    assert not Event.objects.exists()


@pytest.mark.parametrize(("cookie", "expected"), [('"a-1"', "a-1"), ("a-2", "a-2"), (None, "shop-")])
def test_it_stores_the_order_with_the_browsers_anonymous_id(client, demo_sources, cookie, expected):
    if cookie:
        client.cookies["ajs_anonymous_id"] = cookie
    client.post("/shop/cart/add/", {"product_id": "ethiopia-guji", "quantity": "2"})
    response = client.post("/shop/checkout/", {"email": "ada@example.com"})
    assert response.status_code == 302 and response["Location"].startswith("/shop/orders/order_")

    (event,) = Event.objects.all()
    assert event.source == demo_sources[Source.Kind.SERVER]
    assert event.anonymous_id.startswith(expected)
    assert event.properties["revenue"] == 29.0 and event.properties["currency"] == "USD"
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/shop/checkout/")["Location"] == "/shop/cart/"  # the cart is empty again


def test_it_stores_one_order_completed_when_an_order_is_placed_twice(client, demo_sources):
    session = client.session
    cart_add(session, product=PRODUCTS["pour-over-dripper"], quantity=1)
    cart = cart_get(session)
    server = demo_sources[Source.Kind.SERVER]

    first, stored = order_place(cart=cart, email="ada@example.com", anonymous_id="a-1", source=server)
    again, repeated = order_place(cart=cart, email="ada@example.com", anonymous_id="a-1", source=server)

    assert first == again
    assert (len(stored.stored), len(repeated.stored), repeated.duplicates) == (1, 0, 1)
    assert Event.objects.get().message_id == f"order_completed-{first.order_id}"


def test_an_order_naming_an_erased_visitor_is_dropped_and_counted_as_ingest_would(client, demo_sources):
    # order_place stores through events_store, which screens against the suppression list as POST /v1/batch does.
    session = client.session
    cart_add(session, product=PRODUCTS["pour-over-dripper"], quantity=1)
    server = demo_sources[Source.Kind.SERVER]
    SuppressedIdentifier.objects.create(workspace=server.workspace, digest=identifier_digest("a-erased"))

    _, stored = order_place(cart=cart_get(session), email="ada@example.com", anonymous_id="a-erased", source=server)

    assert (stored.stored, stored.duplicates) == ([], 0)
    assert not Event.objects.exists()
    assert RejectedMessage.objects.get().code == "suppressed"
