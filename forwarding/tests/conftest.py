"""An emulated Customer.io (the project's own emulator, over real HTTP) for every forwarding test."""

import pytest
import requests

from customerio_emulator.server import EmulatorConfig, make_server

SITE_ID, API_KEY = "seam-site", "seam-key"


class Emulator:
    """The running emulator and what forwarding tests ask of it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.base_url}/_emulator/{path}", params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict | None = None) -> dict:
        response = self.session.post(f"{self.base_url}/_emulator/{path}", json=body or {}, timeout=5)
        response.raise_for_status()
        return response.json()

    def person(self, identifier: str) -> dict | None:
        response = self.session.get(f"{self.base_url}/_emulator/people/{identifier}", timeout=5)
        return response.json() if response.status_code == 200 else None

    def people(self) -> list[dict]:
        return self.get("people")["people"]

    def requests(self) -> list[dict]:
        return self.get("requests", since=0)["requests"]

    def faults(self, **policy) -> None:
        self.post("faults", policy)


@pytest.fixture(scope="session")
def emulator_server():
    server = make_server(EmulatorConfig(port=0, credentials={SITE_ID: API_KEY})).start_in_thread()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server):
    client = Emulator(emulator_server.base_url)
    client.post("reset")
    yield client
    client.post("reset")


@pytest.fixture
def workspace(workspace, emulator):
    """The shared workspace, aimed at the emulator."""
    workspace.track_api_url = emulator.base_url
    workspace.site_id, workspace.track_api_key = SITE_ID, API_KEY
    workspace.save()
    return workspace
