"""What ingest writes to the outbox, in the same transaction as the events."""

from events.models import Event
from forwarding.models import Delivery
from identities.models import Person
from identities.services import person_merge


def send(api, path, message):
    response = api.post(path, message, format="json")
    assert response.status_code == 200, response.content
    return response


def test_an_anonymous_event_becomes_a_v1_anonymous_event(api):
    send(api, "/v1/track", {"anonymousId": "a-1", "event": "product_viewed", "properties": {"sku": "S1"}})
    delivery = Delivery.objects.get()
    event = Event.objects.get()
    assert delivery.kind == "anonymous_event" and delivery.event == event
    assert delivery.request["path"] == "/api/v1/events"
    assert delivery.request["body"] == {
        "name": "product_viewed",
        "anonymous_id": "a-1",
        "id": event.pk,
        "timestamp": int(event.timestamp.timestamp()),
        "data": {"sku": "S1"},
    }


def test_an_identify_carries_the_anonymous_id_it_absorbed(api):
    send(api, "/v1/track", {"anonymousId": "a-1", "event": "added_to_cart"})
    send(api, "/v1/identify", {"userId": "u-1", "anonymousId": "a-1", "traits": {"email": "Ada@Example.com"}})
    identify = Delivery.objects.get(kind="identify")
    assert identify.request["method"] == "PUT"
    assert identify.request["path"] == "/api/v1/customers/u-1"
    body = identify.request["body"]
    assert (body["id"], body["email"], body["anonymous_id"]) == ("u-1", "ada@example.com", "a-1")
    assert identify.is_barrier


def test_events_of_a_known_person_become_v2_operations_with_the_event_ulid(api):
    send(api, "/v1/identify", {"userId": "u-1", "anonymousId": "a-1"})
    send(api, "/v1/track", {"userId": "u-1", "event": "order_completed", "properties": {"order_id": "o-1"}})
    event = Event.objects.get(type="track")
    op = Delivery.objects.get(kind="event").request["op"]
    assert op == {
        "type": "person",
        "action": "event",
        "identifiers": {"id": "u-1"},
        "name": "order_completed",
        "id": event.pk,
        "timestamp": int(event.timestamp.timestamp()),
        "attributes": {"order_id": "o-1"},
    }


def test_a_late_anonymous_event_goes_straight_to_the_known_person(api):
    send(api, "/v1/identify", {"userId": "u-1", "anonymousId": "a-1"})
    send(api, "/v1/track", {"anonymousId": "a-1", "event": "product_viewed"})
    late = Delivery.objects.get(event__type="track")
    assert late.kind == "event"
    assert late.request["op"]["identifiers"] == {"id": "u-1"}


def test_a_page_view_is_named_by_its_url(api):
    send(api, "/v1/identify", {"userId": "u-1"})
    send(api, "/v1/page", {"userId": "u-1", "name": "Home", "properties": {"url": "https://shop.example/"}})
    op = Delivery.objects.get(kind="event").request["op"]
    assert (op["action"], op["name"]) == ("page", "https://shop.example/")


def test_the_email_policy_names_people_by_email(api, workspace):
    workspace.identifier_policy = "email"
    workspace.save()
    send(api, "/v1/identify", {"userId": "u-1", "traits": {"email": "ada@example.com"}})
    send(api, "/v1/track", {"userId": "u-1", "event": "e"})
    identify = Delivery.objects.get(kind="identify")
    assert identify.request["path"] == "/api/v1/customers/ada%40example.com"
    assert identify.request["body"]["customer_id"] == "u-1"
    assert Delivery.objects.get(kind="event").request["op"]["identifiers"] == {"email": "ada@example.com"}


def test_a_merge_of_two_known_people_identifies_the_survivor_then_merges(api, workspace):
    send(api, "/v1/identify", {"userId": "u-1"})
    send(api, "/v1/identify", {"userId": "u-2"})
    survivor, merged = (Person.objects.get(customer_id=cid) for cid in ("u-1", "u-2"))
    Delivery.objects.all().delete()
    person_merge(survivor=survivor, merged_away=merged)
    identify, merge = Delivery.objects.order_by("pk")
    assert (identify.kind, merge.kind) == ("identify", "merge")
    assert merge.request["op"] == {
        "type": "person",
        "action": "merge",
        "primary": {"id": "u-1"},
        "secondary": {"id": "u-2"},
    }
    assert identify.after_lane == merge.after_lane == f"p:{merged.pk}"
    assert merge.is_barrier


def test_an_operation_over_32_kb_fails_at_once_with_its_reason(api):
    send(api, "/v1/identify", {"userId": "u-1"})
    send(api, "/v1/track", {"userId": "u-1", "event": "e", "properties": {"blob": "x" * 32_690}})
    delivery = Delivery.objects.get(event__type="track")
    assert delivery.state == "failed"
    assert "at most 32768" in delivery.last_error


def test_an_event_name_over_100_bytes_fails_at_once(api):
    send(api, "/v1/track", {"anonymousId": "a", "event": "e" * 101})
    delivery = Delivery.objects.get()
    assert delivery.state == "failed" and "100 bytes" in delivery.last_error


def test_a_rejected_message_writes_nothing_to_the_outbox(api):
    api.post("/v1/track", {"anonymousId": "a"}, format="json")
    assert Delivery.objects.count() == 0


def test_a_duplicate_message_writes_nothing_more(api):
    message = {"anonymousId": "a", "event": "e", "messageId": "m-1"}
    send(api, "/v1/track", message)
    send(api, "/v1/track", message)
    assert Delivery.objects.count() == 1
