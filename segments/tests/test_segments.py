"""Each data-sanity segment on a small hand-built dataset whose right answer is known."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from identities.models import Identity, Person
from segments.models import SegmentSettings
from segments.selectors import UnknownSegment, s6_by_event, segment_count, segment_members
from workspaces.models import Workspace

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)

CART = {"cart_id": "c-1", "product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 14.5, "currency": "USD"}
ITEMS = [{"product_id": "p-1", "sku": "S-1", "quantity": 1, "price": 14.5}]


def order(order_id: str) -> dict:
    return {"order_id": order_id, "revenue": 14.5, "currency": "USD", "items": ITEMS}


def cart(n: object) -> dict:
    return {**CART, "cart_id": f"c-{n}"}


def label(person: Person) -> str:
    """A person by their customer id, email or (smallest) anonymous id."""
    if person.customer_id or person.email:
        return person.customer_id or person.email
    return min(Identity.objects.filter(person=person).values_list("value", flat=True))


def members(workspace, key: str, now, **kwargs) -> list:
    return segment_members(workspace=workspace, key=key, now=now, per_page=100, **kwargs).items


def people(workspace, key: str, now) -> list[str]:
    return sorted(label(person) for person in members(workspace, key, now))


def test_s1_counts_recent_carts_of_people_without_an_email(server, workspace, now):
    server.track("added_to_cart", cart(1), anonymousId="a-1", ago=H)
    server.identify(userId="u-1", traits={"email": "ada@shop.test"}, ago=2 * H)
    server.track("added_to_cart", cart(2), userId="u-1", ago=H)
    server.track("added_to_cart", cart(3), userId="u-2", ago=H)  # a customer id, no email
    server.track("added_to_cart", cart(4), anonymousId="a-4", ago=6 * H)  # the window's edge: inside
    server.track("added_to_cart", cart(5), anonymousId="a-5", ago=6 * H + timedelta(seconds=1))
    server.track("product_viewed", {"product_id": "p-1"}, anonymousId="a-6", ago=H)
    assert people(workspace, "S1", now) == ["a-1", "a-4", "u-2"]
    assert segment_count(workspace=workspace, key="S1", now=now) == 3


def test_s1_follows_the_email_policy(server, workspace, now):
    workspace.identifier_policy = Workspace.IdentifierPolicy.EMAIL
    workspace.save()
    server.track("added_to_cart", cart(1), userId="Ada@Shop.test", ago=H)
    server.track("added_to_cart", cart(2), anonymousId="a-2", ago=H)
    assert people(workspace, "S1", now) == ["a-2"]


def test_s3_is_the_latest_cart_of_the_last_two_hours_without_an_order_since(server, workspace, now):
    server.track("added_to_cart", cart(1), anonymousId="a-1", ago=H)
    server.track("added_to_cart", cart(2), userId="u-2", ago=90 * M)
    server.track("order_completed", order("o-2"), userId="u-2", ago=H)  # bought after the cart: out
    server.track("order_completed", order("o-3"), userId="u-3", ago=90 * M)
    server.track("added_to_cart", cart(3), userId="u-3", ago=H)  # a new cart after buying: in
    server.track("added_to_cart", cart(4), userId="u-4", ago=3 * H)  # too old
    server.track("added_to_cart", cart(5), userId="u-5", ago=H)
    server.track("order_completed", order("o-5"), userId="u-5", ago=H)  # the same moment counts as since
    assert people(workspace, "S3", now) == ["a-1", "u-3"]


def test_s2_finds_a_purchase_that_landed_on_another_profile_through_a_broken_identity(server, workspace, now):
    # The visitor carts anonymously; the site never calls identify, and the server's order carries
    # both ids: it lands on the customer's profile while the anonymous one stays in the abandon audience.
    server.track("product_viewed", {"product_id": "p-1"}, anonymousId="a-9", ago=2 * H)
    server.track("added_to_cart", cart(9), anonymousId="a-9", ago=H)
    server.track("order_completed", order("o-9"), userId="cust-9", anonymousId="a-9", ago=30 * M)
    # Two customer ids, one inbox (rule 5 never merges them): bo-1 carts, bo-2 buys.
    server.identify(userId="bo-1", traits={"email": "bo@shop.test"}, ago=3 * H)
    server.identify(userId="bo-2", traits={"email": "bo+orders@shop.test"}, ago=3 * H)
    server.track("added_to_cart", cart(10), userId="bo-1", ago=H)
    server.track("order_completed", order("o-10"), userId="bo-2", ago=30 * M)
    # Bought this morning on their own profile, carted again since: still in the audience, and bought today.
    server.track("order_completed", order("o-5"), userId="u-5", ago=5 * H)
    server.track("added_to_cart", cart(5), userId="u-5", ago=H)
    # Controls: a plain abandoned cart; a linked purchase two days ago.
    server.track("added_to_cart", cart(6), userId="u-6", ago=H)
    server.track("order_completed", order("o-7"), userId="cust-7", anonymousId="a-7", ago=2 * D)
    server.track("added_to_cart", cart(7), anonymousId="a-7", ago=H)
    assert people(workspace, "S3", now) == ["a-7", "a-9", "bo-1", "u-5", "u-6"]
    assert people(workspace, "S2", now) == ["a-9", "bo-1", "u-5"]


def test_s4_counts_orders_reported_twice_by_one_kind_of_source(server, browser, workspace, now):
    server.track("order_completed", order("o-1"), messageId="m-1")
    server.track("order_completed", order("o-1"), messageId="m-2")
    browser.track("order_completed", order("o-2"), userId="u-2", messageId="m-3")
    browser.track("order_completed", order("o-2"), userId="u-2", messageId="m-4")
    browser.track("order_completed", order("o-3"), userId="u-3")
    server.track("order_completed", order("o-3"), userId="u-3")  # confirmation: the designed flow
    server.track("order_completed", order("o-4"), userId="u-4")
    later = timezone.now()
    assert sorted(row.order_id for row in members(workspace, "S4", later)) == ["o-1", "o-2"]
    assert segment_count(workspace=workspace, key="S4", now=later + timedelta(days=8)) == 0


def test_s5_counts_browser_orders_without_a_server_confirmation_in_time(server, browser, workspace, monkeypatch):
    start = timezone.now() - H

    def at(offset: timedelta) -> None:
        monkeypatch.setattr(timezone, "now", lambda: start + offset)

    at(timedelta(0))
    for order_id in ("o-1", "o-2", "o-3", "o-4"):
        browser.track("order_completed", order(order_id), userId=f"u-{order_id}")
    at(10 * M)
    server.track("order_completed", order("o-2"), userId="u-o-2")  # confirmed in time
    at(15 * M)
    server.track("order_completed", order("o-4"), userId="u-o-4")  # exactly at the window's end: in time
    at(16 * M)
    server.track("order_completed", order("o-3"), userId="u-o-3")  # late
    server.track("order_completed", order("o-5"), userId="u-o-5")  # server only
    at(50 * M)
    browser.track("order_completed", order("o-6"), userId="u-o-6")  # still inside its window
    now = start + H
    monkeypatch.undo()
    assert sorted(row.order_id for row in members(workspace, "S5", now)) == ["o-1", "o-3"]
    # At the window's edge: a browser order becomes browser-only exactly 15 minutes after it arrived.
    assert segment_count(workspace=workspace, key="S5", now=start + 50 * M + 15 * M - timedelta(seconds=1)) == 2
    assert segment_count(workspace=workspace, key="S5", now=start + 50 * M + 15 * M + timedelta(seconds=1)) == 3


def test_s6_counts_planned_events_breaking_the_plan_by_event(server, workspace, now):
    server.track("added_to_cart", {k: v for k, v in CART.items() if k != "sku"}, ago=H)
    server.track("added_to_cart", CART, ago=H)
    server.track("product_viewed", {"product_id": "p-1", "sku": "S-1", "price": "9", "currency": "USD"}, ago=H)
    server.track("wishlist_added", {}, ago=H)  # unplanned: flagged elsewhere, not a broken payload
    server.track("added_to_cart", {}, ago=25 * H)
    assert segment_count(workspace=workspace, key="S6", now=now) == 2
    assert s6_by_event(workspace=workspace, now=now) == {"added_to_cart": 1, "product_viewed": 1}
    assert all(isinstance(event, Event) and event.violations for event in members(workspace, "S6", now))


def test_s7_lists_properties_whose_type_drifts(server, workspace, now):
    server.track("added_to_cart", CART)
    server.track("added_to_cart", {**CART, "product_id": 1001})  # coerced to "1001", still drift
    server.track("product_viewed", {"product_id": "p-1", "price": 3})
    server.track("product_viewed", {"product_id": "p-1", "price": 3.5})  # both numbers: no drift
    (drift,) = members(workspace, "S7", timezone.now())
    assert (drift.event_name, drift.property, drift.types) == ("added_to_cart", "product_id", ["number", "string"])
    assert segment_count(workspace=workspace, key="S7", now=timezone.now()) == 1


def test_s8_finds_test_and_staging_traffic_in_a_production_workspace(server, workspace, now):
    SegmentSettings.objects.create(workspace=workspace, non_production_hostnames="localhost\nstaging.shop.example")
    server.track("added_to_cart", cart(1), userId="u-1", context={"environment": "Staging"}, ago=H)
    server.send("page", userId="u-2", properties={"url": "http://localhost:8000/shop/"}, ago=H)
    server.track("product_viewed", {}, anonymousId="a-3", context={"page": {"url": "https://a.staging.shop.example/p"}})
    server.identify(userId="u-4", traits={"email": "qa+test@shop.test"}, ago=H)
    server.identify(userId="u-5", traits={"email": "tester@example.com"}, ago=3 * D)
    server.track("added_to_cart", cart(5), userId="u-5", ago=H)  # a test person's event
    # Real traffic: production pages, real emails, a URL that only mentions a test host in its path.
    server.send("page", userId="u-6", properties={"url": "https://shop.example/blog/localhost-tips"}, ago=H)
    server.track("product_viewed", {}, userId="u-7", context={"environment": "production"}, ago=H)
    server.identify(userId="u-8", traits={"email": "ada@shop.test"}, ago=H)
    found = members(workspace, "S8", now)
    assert sorted((event.type, event.user_id or event.anonymous_id) for event in found) == [
        ("identify", "u-4"),
        ("page", "u-2"),
        ("track", "a-3"),
        ("track", "u-1"),
        ("track", "u-5"),
    ]
    workspace.environment = Workspace.Environment.STAGING
    workspace.save()
    assert segment_count(workspace=workspace, key="S8", now=now) == 0


def test_s9_counts_anonymous_carts_about_to_age_out_of_customer_io(server, workspace, now):
    server.track("added_to_cart", cart(1), anonymousId="a-1", ago=27 * D)
    server.track("product_viewed", {"product_id": "p-1"}, anonymousId="a-2", ago=27 * D)  # no cart
    server.track("added_to_cart", cart(3), anonymousId="a-3", ago=20 * D)  # too young
    server.track("added_to_cart", cart(4), anonymousId="a-4", ago=30 * D + timedelta(seconds=1))  # gone already
    server.track("added_to_cart", cart(5), anonymousId="a-5", ago=26 * D)
    server.identify(userId="u-5", anonymousId="a-5", ago=26 * D)  # identified: Customer.io keeps it
    server.track("checkout_started", {"cart_id": "c-6", "value": 1, "currency": "USD"}, anonymousId="a-6", ago=25 * D)
    server.track("product_viewed", {"product_id": "p-1"}, anonymousId="a-7", ago=30 * D)
    server.track("added_to_cart", cart(7), anonymousId="a-7", ago=2 * D)  # first seen 30 days ago: the edge
    assert people(workspace, "S9", now) == ["a-1", "a-6", "a-7"]


def test_s10_counts_people_with_many_anonymous_ids_and_shared_devices(server, workspace, now):
    for n in range(11):
        server.identify(userId="many", anonymousId=f"m-{n}")
    for n in range(10):
        server.identify(userId="ten", anonymousId=f"t-{n}")
    server.identify(userId="alice", anonymousId="laptop")
    server.identify(userId="bob", anonymousId="laptop")  # no reset at logout: a shared_device warning
    server.identify(userId="carol", anonymousId="phone")
    assert people(workspace, "S10", now) == ["alice", "bob", "many"]
    SegmentSettings.objects.create(workspace=workspace, max_anonymous_ids=9)
    assert people(workspace, "S10", now) == ["alice", "bob", "many", "ten"]


def test_members_are_paged(server, workspace, now):
    for n in range(5):
        server.track("added_to_cart", cart(n), anonymousId=f"a-{n}", ago=(n + 1) * M)
    first = segment_members(workspace=workspace, key="S1", now=now, page=1, per_page=2)
    last = segment_members(workspace=workspace, key="S1", now=now, page=3, per_page=2)
    assert (first.count, first.num_pages, first.has_next, last.has_next) == (5, 3, True, False)
    assert [label(person) for person in first.items] == ["a-0", "a-1"]  # latest activity first
    assert [label(person) for person in last.items] == ["a-4"]


def test_an_unknown_segment_is_refused(workspace):
    with pytest.raises(UnknownSegment):
        segment_count(workspace=workspace, key="S11")
