"""Single messages sent at once to one server share a commit (events/services.py: event_store_grouped).

The server is pytest-django's threaded live server: one process, a thread per request, as gunicorn's gthread
workers. The first request's commit is held open until the others have queued behind it, so the groups are
known: [first], [everyone else].
"""

import threading
import time

import pytest
import requests

from conftest import SERVER_KEY
from events import services
from events.models import Event, RejectedMessage
from forwarding.models import Delivery
from identities.models import Identity
from privacy.identifiers import identifier_digest
from privacy.models import SuppressedIdentifier
from privacy.screening import suppression_screen

WAIT = 30  # seconds; only a broken group commit waits this long


@pytest.fixture
def grouped(monkeypatch, server_source):
    """The sizes of the groups events_store was called with; the first call waits for `expect` callers."""
    sizes: list[int] = []
    expect = {"queued": 0}
    store = services.events_store

    def recorded(*, source, received):
        group = services._group_commits()._groups.get(source.pk)
        if not sizes and expect["queued"] and group is not None:
            deadline = time.monotonic() + WAIT
            while len(group._waiting) < expect["queued"] and time.monotonic() < deadline:
                time.sleep(0.005)
        sizes.append(len(received))
        return store(source=source, received=received)

    monkeypatch.setattr(services, "events_store", recorded)
    return sizes, expect


def send_at_once(live_server, messages: list[dict], expect: dict) -> list[requests.Response]:
    """POST each message to /v1/<type> from its own thread; the first alone, the rest once it is committing."""
    responses: list = [None] * len(messages)
    expect["queued"] = len(messages) - 1

    def send(index: int) -> None:
        message = messages[index]
        responses[index] = requests.post(
            f"{live_server.url}/v1/{message['type']}", json=message, auth=(SERVER_KEY, ""), timeout=WAIT
        )

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(messages))]
    threads[0].start()
    time.sleep(0.2)  # the first request leads; the others arrive while its commit waits for them
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    return responses


@pytest.mark.django_db(transaction=True)
def test_concurrent_single_messages_share_one_commit_and_each_is_stored_resolved_and_forwarded(live_server, grouped):
    sizes, expect = grouped
    messages = [{"type": "track", "event": "page_viewed", "anonymousId": "first"}] + [
        {"type": "track", "event": "page_viewed", "anonymousId": f"visitor-{i}", "messageId": f"m-{i}"}
        for i in range(5)
    ]
    responses = send_at_once(live_server, messages, expect)
    assert [response.status_code for response in responses] == [200] * 6
    assert [response.json() for response in responses] == [{}] * 6
    assert sizes == [1, 5]
    assert Event.objects.count() == 6
    assert Identity.objects.filter(kind="anonymous_id").count() == 6  # each event resolved to its person
    assert Delivery.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_group_is_one_batch_identify_then_track_resolve_to_one_person_and_a_repeated_id_is_stored_once(
    live_server, grouped
):
    sizes, expect = grouped
    messages = [
        {"type": "track", "event": "page_viewed", "anonymousId": "someone-else"},
        {"type": "identify", "userId": "cust-1", "anonymousId": "device-1", "messageId": "m-identify"},
        {"type": "identify", "userId": "cust-1", "anonymousId": "device-1", "messageId": "m-identify"},
        {"type": "track", "event": "order_completed", "userId": "cust-1", "messageId": "m-order"},
    ]
    responses = send_at_once(live_server, messages, expect)
    assert [response.status_code for response in responses] == [200] * 4
    assert sizes == [1, 3]
    owners = dict(Identity.objects.values_list("value", "person_id"))
    assert owners["device-1"] == owners["cust-1"] != owners["someone-else"]
    assert Event.objects.count() == 3  # the repeated messageId, in the same group, stored once


@pytest.mark.django_db(transaction=True)
def test_a_rejected_single_message_in_a_group_is_a_400_and_the_others_are_stored(live_server, grouped):
    sizes, expect = grouped
    messages = [
        {"type": "track", "event": "page_viewed", "anonymousId": "a"},
        {"type": "track", "anonymousId": "no-event-name"},
        {"type": "track", "event": "page_viewed", "anonymousId": "b"},
    ]
    responses = send_at_once(live_server, messages, expect)
    assert [response.status_code for response in responses] == [200, 400, 200]
    assert sizes == [1, 2]
    assert responses[1].json()["code"]
    assert Event.objects.count() == 2
    assert RejectedMessage.objects.get().code == responses[1].json()["code"]


@pytest.mark.django_db(transaction=True)
def test_a_group_reads_the_suppression_list_once_and_a_failed_group_is_screened_again_alike(
    live_server, grouped, server_source, monkeypatch
):
    sizes, expect = grouped
    SuppressedIdentifier.objects.create(workspace=server_source.workspace, digest=identifier_digest("gone"))
    screened, stored = [], services.tracking_events_stored

    def screen(*, workspace_id, requests):
        screened.append(len(requests))
        return suppression_screen(workspace_id=workspace_id, requests=requests)

    def fails_for_a_group(*, source, events, plan):
        if len(screened) == 2:  # the second group's first attempt: its requests are then stored one by one
            raise RuntimeError("a failure after screening, inside the group's transaction")
        return stored(source=source, events=events, plan=plan)

    monkeypatch.setattr(services, "suppression_screen", screen)
    monkeypatch.setattr(services, "tracking_events_stored", fails_for_a_group)
    messages = [
        {"type": "track", "event": "page_viewed", "anonymousId": "first"},
        {"type": "track", "event": "page_viewed", "userId": "gone"},
        {"type": "track", "event": "page_viewed", "userId": "kept", "anonymousId": "gone"},
        {"type": "track", "event": "page_viewed", "anonymousId": "someone"},
    ]
    responses = send_at_once(live_server, messages, expect)
    assert [response.status_code for response in responses] == [200] * 4
    assert sizes == [1, 3, 1, 1, 1]  # the group of three failed, then each of its requests alone
    assert screened == [1, 3, 1, 1, 1]  # one look-up per attempt, for all of its requests
    stored_ids = sorted(Event.objects.values_list("user_id", "anonymous_id"))
    assert stored_ids == [("", "first"), ("", "someone"), ("kept", "")]
    assert "suppressed_id_removed" in Event.objects.get(user_id="kept").flags
    dropped = RejectedMessage.objects.get()  # recorded once: the failed group's record was rolled back with it
    assert (dropped.code, dropped.field, dropped.payload) == ("suppressed", "userId", None)
