"""The health dashboard and a customer timeline lookup on 1,000,000 events vs 10,000 (target: ratio <= 3).

    DEBUG=1 .venv/bin/python bench/dashboard_scale.py [--large 1000000] [--small 10000] [--repetitions 7]

Works on whatever DATABASE_URL names (SQLite by default), in a scratch database of its own that is
created, migrated and dropped again. Each shop is generated with bulk inserts in the shape ingest
leaves behind: visitors with anonymous ids, 40% of them identified (their later events carry a user
id), one outbox row per forwardable event (delivered, a few failed or dead), the tracking plan's
violations on a few events, 60 days of history. The rollup task runs once per shop (its time is
reported: it is a worker's cost, every 5 minutes), then the pages are timed through Django's test
client as a logged-in admin, the way a browser would hit them:

- health: GET /dashboards/<ws>/health/ (30 days), all panels;
- lookup: GET /dashboards/<ws>/customers/?q=<email> and the person page it redirects to (the timeline);
- order lookup: the same search by an order id.

Medians of the repetitions, different customers each time, the two shops alternating. Not a timed
test: figures for the README.

Measured (7 repetitions, medians, a busy 2-core machine), 10,000 → 1,000,000 events:
SQLite: health 26.3 → 27.2 ms (ratio 1.03), email lookup + timeline 24.6 → 24.2 ms (0.98), order-id
lookup 28.7 → 27.8 ms (0.97); the rollup task 0.6 s → 21.5 s. Postgres 15: health 41.9 → 32.7 ms
(0.78), lookup 45.2 → 37.1 ms (0.82), order lookup 41.1 → 39.7 ms (0.97); the rollup task 9.7 s.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from ulid import ULID  # noqa: E402

from dashboards.services import health_rollup_refresh  # noqa: E402
from events.models import Event  # noqa: E402
from forwarding.models import Delivery  # noqa: E402
from identities.models import Identity, Person  # noqa: E402
from segments.services import segments_snapshot  # noqa: E402
from tracking.models import OrderSeen  # noqa: E402
from workspaces.models import Source, Workspace  # noqa: E402
from workspaces.services import source_create, workspace_ensure  # noqa: E402

TARGET_RATIO = 3.0
EVENTS_PER_VISITOR = 10
NAMES = ["product_viewed", "collection_viewed", "added_to_cart", "checkout_started", "product_viewed", "page"]
CHUNK = 5000


def shop_generate(name: str, events: int, now: datetime) -> tuple[Workspace, list[tuple[str, str]]]:
    """A workspace with `events` events; returns it and (email, order id) of some identified customers."""
    rng = random.Random(events)
    workspace, _ = workspace_ensure(name=name)
    browser, _ = source_create(workspace=workspace, name=f"{name} web", kind=Source.Kind.BROWSER)
    server, _ = source_create(workspace=workspace, name=f"{name} api", kind=Source.Kind.SERVER)
    visitors = events // EVENTS_PER_VISITOR
    customers: list[tuple[str, str]] = []
    event_rows, person_rows, identity_rows, delivery_rows, orders = [], [], [], [], []
    started = time.perf_counter()

    def flush(final: bool = False) -> None:
        nonlocal event_rows, person_rows, identity_rows, delivery_rows, orders
        if len(event_rows) >= CHUNK or final:
            Person.objects.bulk_create(person_rows, batch_size=CHUNK)
            for identity in identity_rows:
                identity.person_id = identity.person.pk
            Identity.objects.bulk_create(identity_rows, batch_size=CHUNK)
            Event.objects.bulk_create(event_rows, batch_size=CHUNK)
            Delivery.objects.bulk_create(delivery_rows, batch_size=CHUNK)
            OrderSeen.objects.bulk_create(orders, batch_size=CHUNK)
            event_rows, person_rows, identity_rows, delivery_rows, orders = [], [], [], [], []

    for visitor in range(visitors):
        anonymous_id = f"{name}-anon-{visitor}"
        identified = visitor % 5 < 2
        first = now - timedelta(days=rng.uniform(0, 60))
        user_id = f"{name}-u{visitor}" if identified else ""
        email = f"{name}.shopper{visitor}@gmail.com" if identified else ""
        person = Person(
            workspace=workspace,
            customer_id=user_id,
            email=email,
            email_folded=email,
            is_identified=identified,
            first_seen=first,
            last_seen=first + timedelta(minutes=EVENTS_PER_VISITOR * 2),
            traits={"email": email} if identified else {},
        )
        person_rows.append(person)
        identity_rows.append(Identity(workspace=workspace, kind="anonymous_id", value=anonymous_id, person=person))
        if identified:
            identity_rows.append(Identity(workspace=workspace, kind="user_id", value=user_id, person=person))
            identity_rows.append(Identity(workspace=workspace, kind="email", value=email, person=person))
        order_id = f"{name}-order-{visitor}"
        for index in range(EVENTS_PER_VISITOR):
            at = first + timedelta(minutes=2 * index)
            known = identified and index >= EVENTS_PER_VISITOR // 2
            last = identified and index == EVENTS_PER_VISITOR - 1
            event_name = "order_completed" if last else NAMES[index % len(NAMES)]
            kind = (
                "page"
                if event_name == "page"
                else "identify"
                if known and index == EVENTS_PER_VISITOR // 2
                else "track"
            )
            properties = {"order_id": order_id, "revenue": 29.0} if last else {"product_id": f"p{index}"}
            event = Event(
                id=str(ULID.from_datetime(at)),
                workspace=workspace,
                source=server if last else browser,
                type=kind,
                name="" if kind == "identify" else event_name,
                user_id=user_id if known else "",
                anonymous_id=anonymous_id,
                message_id=f"m-{visitor}-{index}",
                properties=properties,
                traits={"email": email} if kind == "identify" else {},
                received_at=at,
                timestamp=at,
                violations=[{"kind": "missing_property", "property": "price"}] if rng.random() < 0.01 else [],
            )
            event_rows.append(event)
            state = rng.choices(["delivered", "failed", "dead"], weights=[998, 1, 1])[0]
            delivery_rows.append(
                Delivery(
                    workspace=workspace,
                    lane=f"p:{visitor}",
                    kind="event" if known else "anonymous_event",
                    request={"op": {"name": event_name}},
                    event=event,
                    state=state,
                    attempts=1,
                    next_attempt_at=at,
                    created_at=at,
                    delivered_at=at + timedelta(milliseconds=rng.randint(150, 4000)) if state == "delivered" else None,
                    last_status_code=200 if state == "delivered" else 503,
                )
            )
        if identified:
            customers.append((email, order_id))
            orders.append(
                OrderSeen(workspace=workspace, order_id=order_id, first_seen_at=at, last_seen_at=at,
                          server_event=event_rows[-1], server_seen_at=at, server_count=1)
            )  # fmt: skip
        flush()
    flush(final=True)
    print(f"  {name}: {events:,} events, {visitors:,} visitors generated in {time.perf_counter() - started:.1f} s")
    return workspace, customers


def database_settle() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def shop_prepare(workspace: Workspace) -> float:
    """Run the rollup task once (timed: a worker's cost) and snapshot the segments, as beat would."""
    started = time.perf_counter()
    health_rollup_refresh(workspace=workspace)
    rollup_ms = (time.perf_counter() - started) * 1000
    segments_snapshot(workspace=workspace)
    return rollup_ms


def page_calls(client: Client, workspace: Workspace, customers: list[tuple[str, str]], repetitions: int) -> dict:
    """The timed calls for one shop: the health page, and a search (email, then order id) with its timeline."""
    health_url = f"/dashboards/{workspace.pk}/health/"
    search_url = f"/dashboards/{workspace.pk}/customers/"

    def health() -> None:
        response = client.get(health_url)
        assert response.status_code == 200 and b"Merge rate" in response.content

    def lookup(value: str):
        def run() -> None:
            response = client.get(search_url, {"q": value}, follow=True)
            assert response.status_code == 200 and b'id="timeline"' in response.content, value

        return run

    health()  # warm caches and connections
    lookup(customers[0][0])()
    picks = random.Random(7).sample(customers[1:], repetitions)
    return {
        "health": [health] * repetitions,
        "lookup": [lookup(email) for email, _ in picks],
        "order": [lookup(order) for _, order in picks],
    }


def run(large: int, small: int, repetitions: int) -> list[dict]:
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    admin = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(admin)
    now = datetime.now(UTC)
    print(f"{connection.vendor}: generating the shops ...")
    shops = {label: shop_generate(f"shop{label}", count, now) for label, count in (("small", small), ("large", large))}
    database_settle()
    rollup = {label: shop_prepare(workspace) for label, (workspace, _) in shops.items()}
    calls = {
        label: page_calls(client, workspace, customers, repetitions) for label, (workspace, customers) in shops.items()
    }
    timings: dict[str, dict[str, list[float]]] = {label: {key: [] for key in calls[label]} for label in calls}
    for repetition in range(repetitions):
        # Alternate which shop goes first, so a load spike on the machine does not favour either.
        for label in ("small", "large") if repetition % 2 == 0 else ("large", "small"):
            for key, runs in calls[label].items():
                timings[label][key].append(timed(runs[repetition]))
    figures = {label: {key: statistics.median(values) for key, values in timings[label].items()} for label in timings}
    for label, count in (("small", small), ("large", large)):
        f = figures[label]
        print(
            f"  {count:>9,} events: health {f['health']:7.1f} ms · lookup by email + timeline {f['lookup']:7.1f} ms"
            f" · by order id {f['order']:7.1f} ms · rollup task {rollup[label] / 1000:6.2f} s"
        )
    ratios = {key: figures["large"][key] / figures["small"][key] for key in ("health", "lookup", "order")}
    print(
        f"{connection.vendor}: ratio {large:,} / {small:,} events: health {ratios['health']:.2f}, "
        f"lookup {ratios['lookup']:.2f}, order lookup {ratios['order']:.2f} (target <= {TARGET_RATIO})"
    )
    measures = {
        "health": "health dashboard (30 days, all panels)",
        "lookup": "customer search by email + timeline",
        "order": "customer search by order id + timeline",
    }
    rollup_note = f"; the rollup task (a worker's, every 5 min) took {rollup['large'] / 1000:.1f} s"
    return [
        {
            "id": "P6",
            "measure": f"{measure} on {large:,} events, ms",
            "value": figures["large"][key],
            "baseline_name": f"the same on {small:,} events",
            "baseline": figures["small"][key],
            "target": f"<= {TARGET_RATIO:.2f}",
            "ok": ratios[key] <= TARGET_RATIO,
            "note": f"medians of {repetitions}, Django test client as a logged-in admin"
            + (rollup_note if key == "health" else ""),
        }
        for key, measure in measures.items()
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--rows", type=Path, help="also write the results as bench/run.py's table rows (JSON)")
    args = parser.parse_args()

    # A scratch database of its own: never the development data, never the test suite's.
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = str(settings.VAR_DIR / "bench-dashboard-scale.sqlite3")
    else:
        test_settings["NAME"] = f"{connection.settings_dict['NAME']}_bench_dashboard"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        rows = run(args.large, args.small, args.repetitions)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    if args.rows:
        args.rows.write_text(json.dumps(rows))
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
