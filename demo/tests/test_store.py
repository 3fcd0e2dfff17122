"""The demo store in headless Chromium: a visit clicked through from collection to order confirmation."""

import pytest

from demo.tests.browsing import events_wait
from events.models import Event
from identities.selectors import event_person
from workspaces.models import Source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_stores_the_tracking_plan_events_of_a_visit(live_server, demo_sources, tab):
    page = tab.page
    page.goto(f"{live_server.url}/shop/")
    page.click("#collection-coffee")
    page.click("#product-ethiopia-guji")
    page.fill("#quantity", "2")
    page.click("#add-to-cart")
    page.wait_for_url("**/shop/cart/")
    page.click("#checkout")
    page.fill("#email", "ada@example.com")
    page.click("#place-order")
    page.wait_for_url("**/shop/orders/**")
    order_id = page.text_content("#order-id")
    anonymous_id = tab.cookie(live_server.url)["value"]
    assert page.text_content("#anonymous-id") == anonymous_id

    browser = demo_sources[Source.Kind.BROWSER]
    tracked = {event.name: event for event in events_wait(5, type="track", source=browser)}
    assert tracked["collection_viewed"].properties == {"collection_id": "coffee", "name": "Coffee"}
    assert tracked["product_viewed"].properties == {
        "product_id": "ethiopia-guji",
        "sku": "COF-ETH-250",
        "name": "Ethiopia Guji, 250 g",
        "price": 14.5,
        "currency": "USD",
        "category": "coffee",
    }
    cart_id = tracked["added_to_cart"].properties["cart_id"]
    assert tracked["added_to_cart"].properties == {
        "cart_id": cart_id,
        "product_id": "ethiopia-guji",
        "sku": "COF-ETH-250",
        "quantity": 2,
        "price": 14.5,
        "currency": "USD",
    }
    assert tracked["checkout_started"].properties == {"cart_id": cart_id, "value": 29.0, "currency": "USD"}
    assert tracked["email_captured"].properties == {"email": "ada@example.com"}
    (identify,) = events_wait(1, type="identify", source=browser)
    assert identify.traits == {"email": "ada@example.com"} and identify.user_id == ""

    (order,) = Event.objects.filter(name="order_completed")
    assert order.source == demo_sources[Source.Kind.SERVER]
    assert order.properties == {
        "order_id": order_id,
        "revenue": 29.0,
        "currency": "USD",
        "items": [{"product_id": "ethiopia-guji", "sku": "COF-ETH-250", "quantity": 2, "price": 14.5}],
    }
    visit = [*tracked.values(), identify, order, *Event.objects.filter(type="page")]
    assert {event.anonymous_id for event in visit} == {anonymous_id}
    assert {event_person(event=event).email for event in visit} == {"ada@example.com"}
    assert tab.errors == []


def test_it_shows_every_demo_page_without_console_errors(live_server, demo_sources, tab):
    page = tab.page
    visited = []

    def visit(url: str) -> None:
        tab.goto(url)
        visited.append(page.url)

    visit(f"{live_server.url}/shop/")
    for collection in ("coffee", "brewing-gear"):
        visit(f"{live_server.url}/shop/collections/{collection}/")
    for product in ("ethiopia-guji", "colombia-huila", "gooseneck-kettle", "pour-over-dripper"):
        visit(f"{live_server.url}/shop/products/{product}/")
    page.click("#add-to-cart")
    page.wait_for_url("**/shop/cart/")
    visit(f"{live_server.url}/shop/checkout/")
    page.fill("#email", "grace@example.com")
    page.click("#place-order")
    page.wait_for_url("**/shop/orders/**")
    page.wait_for_function("window.seam && window.seam.loaded")
    visit(f"{live_server.url}/shop/cart/")  # empty again

    assert len(visited) == 9
    assert tab.errors == []
