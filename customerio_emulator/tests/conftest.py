"""One emulator per test session on a free port; every test starts from a reset over HTTP."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from customerio_emulator.server import EmulatorConfig, EmulatorServer, make_server

SITE = ("demo-site", "demo-key")
OTHER_SITE = ("other-site", "other-key")


class EmulatorClient:
    """Speaks to the emulator like the project would: Track calls with Basic auth, inspection without."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def track(self, method: str, path: str, body: Any = None, *, auth: Any = SITE, **kwargs: Any):
        return self.session.request(method, self.base_url + path, json=body, auth=auth, timeout=5, **kwargs)

    def identify(self, identifier: str, attributes: dict[str, Any] | None = None, **kwargs: Any):
        path = f"/api/v1/customers/{quote(identifier, safe='')}"
        return self.track("PUT", path, attributes or {}, **kwargs)

    def event(self, identifier: str, body: dict[str, Any], **kwargs: Any):
        return self.track("POST", f"/api/v1/customers/{quote(identifier, safe='')}/events", body, **kwargs)

    def anonymous_event(self, body: dict[str, Any], **kwargs: Any):
        return self.track("POST", "/api/v1/events", body, **kwargs)

    def batch(self, operations: list[Any], **kwargs: Any):
        return self.track("POST", "/api/v2/batch", {"batch": operations}, **kwargs)

    def inspect(self, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        url = f"{self.base_url}/_emulator/{path}"
        return self.session.request(method, url, json=body, params=params, timeout=5)

    def people(self, site_id: str = SITE[0]) -> list[dict[str, Any]]:
        return self.inspect("GET", "people", site_id=site_id).json()["people"]

    def person(self, identifier: str, site_id: str = SITE[0]) -> dict[str, Any] | None:
        response = self.inspect("GET", f"people/{quote(identifier, safe='')}", site_id=site_id)
        return response.json() if response.status_code == 200 else None

    def notes(self, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else {}
        return self.inspect("GET", "notes", **params).json()["notes"]

    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        return self.inspect("GET", "requests", since=since).json()["requests"]

    def stats(self) -> dict[str, Any]:
        return self.inspect("GET", "stats").json()

    def anonymous_events(self, **params: Any) -> dict[str, Any]:
        return self.inspect("GET", "anonymous_events", **params).json()

    def advance_clock(self, seconds: float) -> None:
        assert self.inspect("POST", "clock", {"advance_seconds": seconds}).status_code == 200

    def set_faults(self, **policy: Any) -> requests.Response:
        return self.inspect("POST", "faults", policy)


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(port=0, credentials={SITE[0]: SITE[1], OTHER_SITE[0]: OTHER_SITE[1]})
    server = make_server(config).start_in_thread()
    yield server
    server.stop()


@pytest.fixture
def emu(emulator_server: EmulatorServer) -> Iterator[EmulatorClient]:
    client = EmulatorClient(emulator_server.base_url)
    assert client.inspect("POST", "reset").status_code == 200
    yield client
    client.session.close()


def ulid(n: int) -> str:
    """A valid, distinct ULID per `n` (Crockford base32, first character 0)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    digits = []
    for _ in range(10):
        n, rest = divmod(n, 32)
        digits.append(alphabet[rest])
    return "01HB4HBDKTFWYZCK" + "".join(reversed(digits))
