"""A paced load client for the forwarding benchmarks: batches sent on a fixed schedule, each ack timed.

wrk sends as fast as it can; P4 needs a steady rate and the moment each message was acknowledged,
so this client keeps a schedule (request i leaves at start + i / rate) on a pool of threads and
records when each answer came back. `slip` (how late requests left against the schedule) shows
whether the client kept up: a client that cannot keep its schedule would measure itself.
"""

import base64
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import requests

from bench.ingest import message

THREADS = 16


@dataclass
class PacedRun:
    acked_at: dict[str, float] = field(default_factory=dict)  # messageId -> unix time of the 200
    failures: int = 0
    slips: list[float] = field(default_factory=list)
    sent: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return len(self.acked_at) / self.seconds if self.seconds else 0.0

    @property
    def slip_p95_ms(self) -> float:
        return statistics.quantiles(self.slips, n=20)[-1] * 1000 if len(self.slips) > 1 else 0.0


def storefront_batch(request: int, size: int, *, anonymous_share: float, prefix: str) -> list[dict]:
    """`size` realistic ~1 KB events; a share of them from anonymous visitors, the rest from customers.

    Each carries the time it is made, as an SDK stamps it: people's last_seen moves forward and the
    storm check looks at a narrow window, as with real traffic (a fixed time would spare the one and
    widen the other to every event stored).
    """
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    batch = []
    for offset in range(size):
        n = request * size + offset
        item = message(n)
        item["messageId"] = f"{prefix}-{n}"
        item["timestamp"] = now
        item["properties"]["cart_id"] = f"{prefix}-cart-{n}"  # no storm collapsing: each add is new
        if (n % 100) < anonymous_share * 100:
            item["anonymousId"] = f"visitor-{n % 997}"
        else:
            item.pop("anonymousId")
            item["userId"] = f"customer-{n % 5000}"
        batch.append(item)
    return batch


def paced_batches(
    url: str,
    write_key: str,
    *,
    events_per_second: int,
    batch_size: int,
    seconds: float,
    anonymous_share: float = 0.0,
    prefix: str = "paced",
) -> PacedRun:
    """POST batches to `url`/v1/batch at a steady rate for `seconds`; every message's ack time.

    A rate above what the server takes sends flat out: the schedule slips, every batch is still sent."""
    requests_per_second = events_per_second / batch_size
    total = int(seconds * requests_per_second)
    auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    run = PacedRun()
    lock = threading.Lock()
    local = threading.local()

    def send(index: int, due: float) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        batch = storefront_batch(index, batch_size, anonymous_share=anonymous_share, prefix=prefix)
        body = orjson.dumps({"batch": batch})
        slip = time.monotonic() - due
        try:
            response = session.post(
                f"{url}/v1/batch",
                data=body,
                headers={"Authorization": auth, "Content-Type": "application/json"},
                timeout=30,
            )
            ok = response.status_code == 200 and not response.json().get("rejected")
        except requests.RequestException:
            ok = False
        acked = time.time()
        with lock:
            run.slips.append(max(0.0, slip))
            run.sent += len(batch)
            if ok:
                run.acked_at.update((item["messageId"], acked) for item in batch)
            else:
                run.failures += 1

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        for index in range(total):
            due = started + index / requests_per_second
            time.sleep(max(0.0, due - time.monotonic()))
            pool.submit(send, index, due)
    run.seconds = time.monotonic() - started
    return run
