"""Helpers for driving the real ingest API and reading what resolution made of it."""

import pytest


class Ingest:
    """Sends Segment-spec messages through the real API as the server source, one request each."""

    def __init__(self, api) -> None:
        self.api = api

    def send(self, kind: str, **message) -> None:
        response = self.api.post(f"/v1/{kind}", message, format="json")
        assert response.status_code == 200, response.content

    def batch(self, *messages: dict) -> None:
        response = self.api.post("/v1/batch", {"batch": list(messages)}, format="json")
        assert response.status_code == 200, response.content

    def identify(self, **message) -> None:
        self.send("identify", **message)

    def track(self, event: str, **message) -> None:
        self.send("track", event=event, **message)

    def page(self, **message) -> None:
        self.send("page", **message)

    def alias(self, **message) -> None:
        self.send("alias", **message)


@pytest.fixture
def ingest(api) -> Ingest:
    return Ingest(api)
