"""What the in-process profilers (profile_ingest.py, profile_forwarding.py, instructions.py) share: a fresh
bench database with Django set up in this process, the ingest requests they make, and how a profile is printed."""

import base64
import cProfile
import os
import pstats
import sys
from collections.abc import Callable
from datetime import timedelta

from bench.harness import bench_env, database_reset, production_env


def django_ready() -> None:
    """Reset make bench's scratch Postgres database, migrate it and set Django up on it, here, as production
    runs (DEBUG off)."""
    env = bench_env()
    database_reset(env)
    os.environ.update(production_env(env))

    import django

    django.setup()


def ingest_requests() -> dict[str, tuple[str, bytes]]:
    """The ingest requests the profilers make: label → (path, body). No Django needed."""
    import orjson

    from bench.ingest import message
    from bench.load import storefront_batch

    return {
        "/v1/batch (100 messages)": ("/v1/batch", orjson.dumps({"batch": [message(n) for n in range(100)]})),
        # P4's and P7's load: known customers (messageIds and carts made unique per request).
        "/v1/batch (20 messages, as P4 sends)": (
            "/v1/batch",
            orjson.dumps({"batch": storefront_batch(0, 20, anonymous_share=0.05, prefix="REQ")}),
        ),
        "/v1/track (1 message)": ("/v1/track", orjson.dumps(message(0))),
    }


def ingest_poster() -> Callable[[str, bytes], None]:
    """post(path, body): writes through the API in process as a new source's key and asserts 200. Each post
    replaces `REQ` in the body with a new number, so visitors and carts differ between requests as real
    traffic does. Call after django_ready()."""
    from django.conf import settings
    from django.test import Client

    from workspaces.models import Source
    from workspaces.services import source_create, workspace_ensure

    settings.ALLOWED_HOSTS = ["*"]
    workspace, _ = workspace_ensure(name="Profile")
    _, key = source_create(workspace=workspace, name="profile", kind=Source.Kind.SERVER)
    client = Client()
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    counter = iter(range(10**9))

    def post(path: str, body: bytes) -> None:
        response = client.post(
            path,
            data=body.replace(b"REQ", str(next(counter)).encode()),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
        assert response.status_code == 200, response.content

    return post


GROUP_COMMIT = "group commit (8 single messages)"


def group_storer(size: int = 8) -> Callable[[], None]:
    """store(): `size` single messages (new visitors) read and screened as each request does, then stored in
    one group commit, as a web worker's leader stores what queued behind it (events/services.py). The group
    cannot form in one thread through the test client, so this calls the services the view calls.
    Call after django_ready()."""
    import orjson
    from django.conf import settings
    from django.utils import timezone

    from bench.ingest import message
    from events.ingest.batch import messages_read
    from events.ingest.messages import Envelope
    from events.services import events_received, events_store
    from workspaces.models import Source
    from workspaces.services import source_create, workspace_ensure

    workspace, _ = workspace_ensure(name="Profile group")
    source, _ = source_create(workspace=workspace, name="profile group", kind=Source.Kind.SERVER)
    body = orjson.dumps(message(0))
    counter = iter(range(10**9))

    def store() -> None:
        received = []
        for _ in range(size):
            now = timezone.now()
            raw = orjson.loads(body.replace(b"REQ", str(next(counter)).encode()))
            envelope = Envelope(received_at=now, max_future=timedelta(seconds=settings.SEAM_MAX_FUTURE_SECONDS))
            read = messages_read(
                [raw], envelope=envelope, max_message_bytes=settings.SEAM_MAX_MESSAGE_BYTES, in_batch=False,
                message_type="track",
            )  # fmt: skip
            received.append(events_received(source=source, read=read, received_at=now))
        assert all(len(stored.stored) == 1 for stored in events_store(source=source, received=received))

    return store


def statements_print(captured: list[dict], *, top: int = 8) -> None:
    """Statements captured by Django's CaptureQueriesContext, grouped by their first 90 characters, by total time."""
    by_statement: dict[str, list[float]] = {}
    for query in captured:
        by_statement.setdefault(query["sql"][:90], []).append(float(query["time"]))
    print("### Time by statement (its first 90 characters)\n")
    for text, times in sorted(by_statement.items(), key=lambda item: -sum(item[1]))[:top]:
        print(f"{sum(times):7.2f} s  {len(times):5} x {sum(times) / len(times) * 1000:6.1f} ms  {text}")
    print()


def profile_print(profile: cProfile.Profile, *, apps: str, top: int) -> None:
    """Seam's functions in `apps` (a regex of app folders) by cumulative time, then all by time of their own."""
    stats = pstats.Stats(profile, stream=sys.stdout)
    print("### Seam's own functions, by cumulative time")
    stats.sort_stats("cumulative").print_stats(rf"/({apps})/", top)
    print("### Every function, by time of its own")
    stats.sort_stats("tottime").print_stats(top)
