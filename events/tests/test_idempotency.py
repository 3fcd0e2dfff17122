import threading

import pytest
import requests
from django.db import connection

from conftest import SERVER_KEY
from events.models import Event

MESSAGE = {"userId": "u", "event": "order_completed", "messageId": "m-1"}


def test_a_repeated_message_id_stores_nothing_new_and_still_succeeds(api):
    assert api.post("/v1/track", MESSAGE, format="json").status_code == 200
    again = api.post("/v1/track", {**MESSAGE, "event": "changed"}, format="json")
    assert again.status_code == 200
    assert again.json() == {}
    assert list(Event.objects.values_list("name", flat=True)) == ["order_completed"]


def test_a_message_id_repeated_inside_a_batch_is_stored_once(api):
    batch = {"batch": [{"type": "track", **MESSAGE}, {"type": "track", **MESSAGE}]}
    assert api.post("/v1/batch", batch, format="json").status_code == 200
    assert Event.objects.count() == 1


def test_the_same_message_id_from_another_source_is_another_message(api, client, browser_source):
    api.post("/v1/track", MESSAGE, format="json")
    client.post("/v1/t", {**MESSAGE, "writeKey": "pk_test_browser_key"}, content_type="application/json")
    assert Event.objects.count() == 2


def test_messages_without_a_message_id_are_all_kept(api):
    for _ in range(3):
        api.post("/v1/track", {"userId": "u", "event": "e"}, format="json")
    assert Event.objects.count() == 3
    assert all(message_id.startswith("seam-") for message_id in Event.objects.values_list("message_id", flat=True))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_message_id_store_one_row(live_server, server_source):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs a database with concurrent writers (Postgres)")
    threads, statuses = 8, []
    barrier = threading.Barrier(threads)
    batch = {"batch": [{"type": "track", "userId": "u", "event": "e", "messageId": f"m-{i}"} for i in range(50)]}

    def send() -> None:
        session = requests.Session()
        barrier.wait()
        response = session.post(f"{live_server.url}/v1/batch", json=batch, auth=(SERVER_KEY, ""), timeout=30)
        statuses.append(response.status_code)

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert statuses == [200] * threads
    assert Event.objects.count() == 50
