"""The HTTP edge to Customer.io's Track API: one pooled session, a timeout on every call."""

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import orjson
import requests
from django.utils import timezone

# Connect fast or fail; a batch of 500 KB can take a while to be answered.
TIMEOUT = (3.05, 15)
BODY_KEPT = 1000
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class TrackResponse:
    """What one request came back with: a status, or an error when there was no answer."""

    status: int | None
    body: str
    latency_ms: int
    retry_after: float | None = None
    error: str = ""

    def json(self) -> dict:
        try:
            value = orjson.loads(self.body)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class TrackApiClient:
    """Customer.io's Track API for one workspace: HTTP Basic with the site id and the API key."""

    def __init__(self, *, base_url: str, site_id: str, api_key: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.auth = (site_id, api_key)

    def send(self, method: str, path: str, body: dict) -> TrackResponse:
        return self._request(method, path, orjson.dumps(body))

    def batch(self, ops: list[bytes]) -> TrackResponse:
        """A v2 batch of operations already encoded as JSON (the sender sized the batch by them)."""
        return self._request("POST", "/api/v2/batch", b'{"batch":[' + b",".join(ops) + b"]}")

    def _request(self, method: str, path: str, body: bytes) -> TrackResponse:
        started = time.monotonic()
        try:
            response = self.session.request(
                method, f"{self.base_url}{path}", data=body, headers=JSON, auth=self.auth, timeout=TIMEOUT
            )
        except requests.RequestException as error:
            return TrackResponse(None, "", _ms(started), error=f"{type(error).__name__}: {error}"[:300])
        return TrackResponse(
            status=response.status_code,
            body=response.text[:BODY_KEPT],
            latency_ms=_ms(started),
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None
