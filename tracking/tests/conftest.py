"""Sending messages through the real ingest API as the server source and as the browser source."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from conftest import BROWSER_KEY, basic_auth

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def at(seconds: float = 0) -> str:
    """An ISO timestamp `seconds` after T0, for time-sensitive datasets."""
    return (T0 + timedelta(seconds=seconds)).isoformat()


class Sender:
    """Posts track messages and batches through the API as one source; every call must succeed."""

    def __init__(self, client: APIClient) -> None:
        self.client = client

    def track(self, event: str, properties: dict | None = None, **message) -> None:
        message.setdefault("userId", "u-1")
        body = {"event": event, "properties": properties or {}, **message}
        response = self.client.post("/v1/track", body, format="json")
        assert response.status_code == 200, response.content

    def batch(self, *messages: dict) -> None:
        response = self.client.post("/v1/batch", {"batch": list(messages)}, format="json")
        assert response.status_code == 200, response.content


@pytest.fixture
def server(api) -> Sender:
    return Sender(api)


@pytest.fixture
def browser(browser_source) -> Sender:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(BROWSER_KEY))
    return Sender(client)
