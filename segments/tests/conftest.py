"""Building small datasets through the real ingest API, with explicit timestamps."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import BROWSER_KEY, basic_auth


class Shop:
    """Sends messages as one source; `ago` places an event that long before the dataset's `now`."""

    def __init__(self, client: APIClient, now: datetime) -> None:
        self.client = client
        self.now = now

    def send(self, kind: str, ago: timedelta = timedelta(minutes=1), **message) -> None:
        message.setdefault("timestamp", (self.now - ago).isoformat())
        if "userId" not in message and "anonymousId" not in message:
            message["userId"] = "u-1"
        response = self.client.post(f"/v1/{kind}", message, format="json")
        assert response.status_code == 200, response.content

    def track(self, event: str, properties: dict | None = None, ago: timedelta = timedelta(minutes=1), **message):
        self.send("track", ago=ago, event=event, properties=properties or {}, **message)

    def identify(self, ago: timedelta = timedelta(minutes=1), **message) -> None:
        self.send("identify", ago=ago, **message)


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def server(api, now) -> Shop:
    return Shop(api, now)


@pytest.fixture
def browser(browser_source, now) -> Shop:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(BROWSER_KEY))
    return Shop(client, now)
