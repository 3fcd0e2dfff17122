"""A database that cannot be reached answers 503 {code, message} with Retry-After on every ingest route.

The fault drill (chaos/drill.py) proves it against a real Postgres stopped mid-traffic; this is the
fast version: the connection itself fails, wherever ingest first touches the database.
"""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connection

from conftest import BROWSER_KEY, SERVER_KEY, basic_auth
from events.models import Event


@contextmanager
def database_down():
    refused = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch.object(connection, "cursor", side_effect=refused):
        yield


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/v1/track", {"userId": "u", "event": "e"}, {"Authorization": basic_auth(SERVER_KEY)}),
        (
            "/v1/batch",
            {"batch": [{"type": "track", "userId": "u", "event": "e"}]},
            {"Authorization": f"Bearer {SERVER_KEY}"},
        ),
        ("/v1/t", {"writeKey": BROWSER_KEY, "anonymousId": "a", "event": "e"}, {}),
    ],
)
def test_ingest_answers_503_with_retry_after_while_the_database_is_down(
    client, server_source, browser_source, path, body, headers
):
    with database_down():
        response = client.post(path, body, content_type="application/json", headers=headers)
    assert response.status_code == 503
    assert response.json() == {"code": "unavailable", "message": "the service is temporarily unavailable; retry later"}
    assert int(response["Retry-After"]) > 0


def test_it_recovers_on_the_next_request(client, server_source):
    def send():
        body = {"userId": "u", "event": "e"}
        return client.post(
            "/v1/track", body, content_type="application/json", headers={"Authorization": basic_auth(SERVER_KEY)}
        )

    with database_down():
        assert send().status_code == 503
    assert send().status_code == 200
    assert Event.objects.count() == 1


def test_the_sdk_settings_route_answers_503_too(client, browser_source):
    with database_down():
        response = client.get(f"/v1/projects/{BROWSER_KEY}/settings")
    assert response.status_code == 503 and response.json()["code"] == "unavailable"
