"""A client that behaves like the official server SDKs: batches (or, like the browser SDK, one message per
request), retries on 5xx, 429 and network errors.

It keeps a tally of every answer, and the messageIds of every batch that got a 200: those are the
events Seam acknowledged, which the drill then looks for in the database and in the emulator.
"""

import base64
import itertools
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

RETRYABLE = {408, 429, 500, 502, 503, 504}
BACKOFF_BASE, BACKOFF_MAX = 0.1, 5.0


@dataclass
class Tally:
    """What the clients saw, shared by every sender thread."""

    acked: set[str] = field(default_factory=set)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    bad_error_bodies: int = 0  # a non-200 whose body is not JSON {code, message}
    missing_retry_after: int = 0  # a 429 or 503 without Retry-After
    gave_up: int = 0  # batches abandoned at the deadline
    refused: list[str] = field(default_factory=list)  # 4xx other than 408/429: the drill's own bug
    sent_messages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def progress(self, total: int) -> float:
        with self.lock:
            return len(self.acked) / total if total else 1.0


def shopper_journey(shopper: int, events: int) -> list[dict]:
    """One shopper's messages in order: anonymous browsing, an identify, then events as the customer."""
    anonymous_id = f"chaos-anon-{shopper}"
    user_id = f"chaos-user-{shopper}"
    browsing = max(1, events // 4)
    messages: list[dict] = []
    for n in range(browsing):
        messages.append(
            {"type": "page", "anonymousId": anonymous_id, "name": "Product", "properties": {"url": f"https://s/p/{n}"}}
        )
    messages.append(
        {"type": "identify", "userId": user_id, "anonymousId": anonymous_id, "traits": {"email": f"{user_id}@x.io"}}
    )
    for n in range(events - browsing - 1):
        event = "added_to_cart" if n % 3 else "product_viewed"
        messages.append(
            {"type": "track", "userId": user_id, "event": event, "properties": {"sku": f"sku-{n}", "price": n + 0.5}}
        )
    for message in messages:
        message["messageId"] = f"chaos-{uuid.uuid4()}"
    return messages


class Sender(threading.Thread):
    """Sends its shoppers' journeys in batches; each batch is retried until a 200 or the deadline.

    With batch_size 0, each message goes alone to its own endpoint (/v1/track, /v1/identify, …), as the
    browser SDK sends: what Seam stores in group commits (events/services.py: event_store_grouped).
    """

    def __init__(self, *, url: str, write_key: str, journeys: list[list[dict]], batch_size: int, tally: Tally,
                 deadline: float, interval: float = 0.0) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.base_url = url
        self.single = batch_size == 0
        self.url = f"{url}/v1/batch"
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self.journeys = journeys
        self.batch_size = batch_size
        self.tally = tally
        self.deadline = deadline
        self.interval = interval  # seconds between batch starts: the client's pace

    def run(self) -> None:
        # Journeys interleave, as on a backend serving many shoppers at once: a shopper's anonymous
        # browsing usually reaches Seam a few batches before their identify.
        queue = [message for step in itertools.zip_longest(*self.journeys) for message in step if message]
        next_start = time.monotonic()
        size = self.batch_size or 1
        for start in range(0, len(queue), size):
            time.sleep(max(0.0, next_start - time.monotonic()))
            next_start = max(next_start, time.monotonic() - self.interval) + self.interval
            if not self._send(queue[start : start + size]):
                with self.tally.lock:
                    self.tally.gave_up += 1

    def _send(self, batch: list[dict]) -> bool:
        attempt = 0
        while time.monotonic() < self.deadline:
            attempt += 1
            try:
                if self.single:
                    url, body = f"{self.base_url}/v1/{batch[0]['type']}", batch[0]
                else:
                    url, body = self.url, {"batch": batch}
                response = self.session.post(url, json=body, timeout=30)
            except requests.RequestException as error:
                with self.tally.lock:
                    self.tally.errors[type(error).__name__] += 1
                time.sleep(_backoff(attempt, None))
                continue
            with self.tally.lock:
                self.tally.statuses[response.status_code] += 1
                self.tally.sent_messages += len(batch)
                if response.status_code == 200:
                    self.tally.acked.update(message["messageId"] for message in batch)
                    return True
                if not _is_error_body(response):
                    self.tally.bad_error_bodies += 1
                if response.status_code in (429, 503) and not response.headers.get("Retry-After"):
                    self.tally.missing_retry_after += 1
                if response.status_code not in RETRYABLE:
                    self.tally.refused.append(f"{response.status_code} {response.text[:200]}")
                    return False
            time.sleep(_backoff(attempt, response.headers.get("Retry-After")))
        return False


def _is_error_body(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str)


def _backoff(attempt: int, retry_after: str | None) -> float:
    """Retry-After when given; else exponential with full jitter (the official SDKs' policy)."""
    if retry_after:
        try:
            return min(BACKOFF_MAX * 2, float(retry_after)) + random.uniform(0, 0.2)
        except ValueError:
            pass
    return random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt))
