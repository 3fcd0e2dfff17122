"""Rule 8: identifying a visitor with 100,000 anonymous events costs about what it costs with one.

    DEBUG=1 .venv/bin/python bench/identify_cost.py [--history 100000] [--repetitions 5]

Works on whatever DATABASE_URL names (SQLite by default), in a scratch database of its own that is
created, migrated and dropped again. Each repetition makes a known customer and an anonymous
visitor with N prior events, then times the identify that merges the visitor into the customer:
the whole ingest write (event insert + resolution, one transaction), as the API would run it.
Target: heavy / light ≤ 1.5.

Measured (5 repetitions, medians): SQLite 8.20 ms vs 8.30 ms, ratio 0.99; Postgres 15 12.39 ms vs
13.37 ms, ratio 0.93. A merge moves identities, never events (rule 8).
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from ulid import ULID  # noqa: E402

from events.ingest.batch import messages_read  # noqa: E402
from events.ingest.messages import Envelope  # noqa: E402
from events.models import Event  # noqa: E402
from events.services import event_store_batch  # noqa: E402
from identities.models import Merge  # noqa: E402
from identities.selectors import person_events, person_for_identity  # noqa: E402
from workspaces.models import Source  # noqa: E402
from workspaces.services import source_create, workspace_ensure  # noqa: E402

TARGET_RATIO = 1.5


def ingest(source: Source, messages: list[dict]) -> None:
    """The API's write path without HTTP: read the messages, store and resolve them."""
    received_at = timezone.now()
    read = messages_read(
        messages,
        envelope=Envelope(received_at=received_at, max_future=timedelta(minutes=10)),
        max_message_bytes=settings.SEAM_MAX_MESSAGE_BYTES,
        in_batch=True,
    )
    assert not read.rejected, read.rejected
    event_store_batch(source=source, read=read, received_at=received_at)


def history_add(source: Source, anonymous_id: str, count: int) -> None:
    """`count` more anonymous events for the visitor, inserted directly: only their number matters."""
    now = timezone.now()
    rows = (
        Event(
            id=str(ULID()),
            workspace_id=source.workspace_id,
            source=source,
            type=Event.Type.TRACK,
            name="product_viewed",
            anonymous_id=anonymous_id,
            message_id=f"bench-{anonymous_id}-{index}",
            properties={"product_id": f"p{index % 50}"},
            received_at=now,
            timestamp=now - timedelta(seconds=count - index),
        )
        for index in range(count)
    )
    batch: list[Event] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 5000:
            Event.objects.bulk_create(batch)
            batch = []
    if batch:
        Event.objects.bulk_create(batch)


def visitor_prepare(source: Source, *, history: int, label: str) -> tuple[str, str]:
    """A known customer, and an anonymous visitor with `history` prior events (the first through ingest)."""
    customer, visitor = f"cust-{label}", f"anon-{label}"
    ingest(source, [{"type": "identify", "userId": customer, "traits": {"email": f"{label}@example.com"}}])
    ingest(source, [{"type": "track", "event": "product_viewed", "anonymousId": visitor}])
    history_add(source, visitor, history - 1)
    return customer, visitor


def identify_seconds(source: Source, *, customer: str, visitor: str, history: int) -> float:
    started = time.perf_counter()
    ingest(source, [{"type": "identify", "userId": customer, "anonymousId": visitor}])
    elapsed = time.perf_counter() - started

    person = person_for_identity(workspace=source.workspace, kind="user_id", value=customer)
    assert person_for_identity(workspace=source.workspace, kind="anonymous_id", value=visitor) == person
    assert Merge.objects.filter(survivor=person, reason=Merge.Reason.IDENTIFY).count() == 1
    assert person_events(person=person).count() == history + 2
    return elapsed


def database_settle() -> None:
    """Let the bulk history land before timing: the timings are of identify, not of a checkpoint."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")


def run(history: int, repetitions: int) -> dict:
    workspace, _ = workspace_ensure(name="bench")
    source, _ = source_create(workspace=workspace, name="bench", kind=Source.Kind.SERVER)
    print(f"preparing {repetitions} visitors with {history:,} prior events and {repetitions + 1} with 1 ...")
    warmup = visitor_prepare(source, history=1, label="warmup")
    prepared = {
        (name, repetition): visitor_prepare(source, history=count, label=f"{name}-{repetition}")
        for repetition in range(repetitions)
        for name, count in (("light", 1), ("heavy", history))
    }
    database_settle()
    identify_seconds(source, customer=warmup[0], visitor=warmup[1], history=1)
    timings: dict[str, list[float]] = {"light": [], "heavy": []}
    for repetition in range(repetitions):
        # Alternate the order so neither side always runs on a warmer cache.
        names = ["light", "heavy"] if repetition % 2 == 0 else ["heavy", "light"]
        for name in names:
            count = history if name == "heavy" else 1
            customer, visitor = prepared[(name, repetition)]
            timings[name].append(identify_seconds(source, customer=customer, visitor=visitor, history=count))
            print(f"  repetition {repetition + 1}: {name} ({count:>7} prior events) {timings[name][-1] * 1000:7.2f} ms")
    heavy, light = statistics.median(timings["heavy"]), statistics.median(timings["light"])
    ratio = heavy / light
    print(
        f"{connection.vendor}: identify (merge) after {history:,} anonymous events: median {heavy * 1000:.2f} ms; "
        f"after 1: {light * 1000:.2f} ms; ratio {ratio:.2f} (target <= {TARGET_RATIO})"
    )
    return {
        "id": "P5",
        "measure": f"identify (merge) after {history:,} anonymous events, ms",
        "value": heavy * 1000,
        "baseline_name": "the same after 1 event",
        "baseline": light * 1000,
        "target": f"<= {TARGET_RATIO:.2f}",
        "ok": ratio <= TARGET_RATIO,
        "note": f"medians of {repetitions} repetitions, in process (no HTTP)",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--rows", type=Path, help="also write the result as bench/run.py's table rows (JSON)")
    args = parser.parse_args()

    # A scratch database of its own: never the development data, never the test suite's.
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = str(settings.VAR_DIR / "bench-identify-cost.sqlite3")
    else:
        test_settings["NAME"] = f"{connection.settings_dict['NAME']}_bench_identify"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        row = run(args.history, args.repetitions)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    if args.rows:
        args.rows.write_text(json.dumps([row]))
    return 0 if row["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
