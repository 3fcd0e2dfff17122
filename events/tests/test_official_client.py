"""Customer.io's own Python client (customerio-cdp-analytics) against a live Seam server.

Its packaging trap (customerio-api.md): it ships an empty `customerio/__init__.py`, so import
from `customerio.analytics`, never `from customerio import ...`.
"""

import pytest
from customerio.analytics import Client
from customerio.analytics.request import APIError

from conftest import SERVER_KEY
from events.models import Event


@pytest.mark.django_db(transaction=True)
def test_the_official_python_client_delivers_identify_track_and_page(live_server, server_source):
    errors = []
    client = Client(
        SERVER_KEY, host=live_server.url, sync_mode=True, on_error=lambda error, batch: errors.append(error)
    )
    client.identify("u-42", {"email": "ada@example.com"}, anonymous_id="anon-42")
    client.track("u-42", "order_completed", {"order_id": "o-1", "revenue": 42.5})
    client.page("u-42", "Shop", "Product", {"url": "https://shop.example/p/1"})
    client.flush()

    assert errors == []
    events = {event.type: event for event in Event.objects.all()}
    assert set(events) == {"identify", "track", "page"}
    assert events["identify"].traits == {"email": "ada@example.com"}
    assert events["identify"].anonymous_id == "anon-42"
    assert events["track"].properties == {"order_id": "o-1", "revenue": 42.5}
    assert events["page"].name == "Product"
    assert events["track"].context["library"]["name"] == "analytics-python"
    # The client stamps its own clock and sends sentAt: both are kept.
    assert events["track"].original_timestamp is not None
    assert events["track"].sent_at is not None
    assert all(event.source == server_source for event in events.values())


@pytest.mark.django_db(transaction=True)
def test_the_official_client_reads_our_error_body_and_gives_up_on_a_bad_key(live_server, server_source):
    client = Client("sk_wrong", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as raised:
        client.track("u-42", "order_completed", {})
    # It read {code, message}: a body without them would have made it retry instead.
    assert (raised.value.status, raised.value.code) == (401, "unauthorized")
    assert Event.objects.count() == 0
