"""Where ingest's time goes: cProfile of the batch and single-message write paths, in process.

    .venv/bin/python bench/profile_ingest.py [--batches 5] [--top 20]

Uses make bench's scratch Postgres database (reset first) and Django's test client, so what is
profiled is the request as the API runs it, minus gunicorn. Prints milliseconds per request, the
queries per request, Seam's functions by cumulative time and all functions by time of their own.
bench/ANALYSIS.md quotes it.
"""

import argparse
import base64
import cProfile
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.profiling import django_ready, profile_print, statements_print


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    django_ready()
    import orjson
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.ingest import message
    from bench.load import storefront_batch
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

    cases = {
        "/v1/batch (100 messages)": ("/v1/batch", orjson.dumps({"batch": [message(n) for n in range(100)]})),
        # P4's and P7's load: known customers (messageIds and carts made unique per request below).
        "/v1/batch (20 messages, as P4 sends)": (
            "/v1/batch",
            orjson.dumps({"batch": storefront_batch(0, 20, anonymous_share=0.05, prefix="REQ")}),
        ),
        "/v1/track (1 message)": ("/v1/track", orjson.dumps(message(0))),
    }
    for label, (path, body) in cases.items():
        for _ in range(3):
            post(path, body)  # warm
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            for _ in range(args.batches):
                post(path, body)
            elapsed = (time.perf_counter() - started) / args.batches
        per_request = len(queries.captured_queries) / args.batches
        print(f"\n## {label}: {elapsed * 1000:.1f} ms per request, {per_request:g} queries\n")
        statements_print(queries.captured_queries)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.batches):
            post(path, body)
        profile.disable()
        profile_print(profile, apps="events|identities|tracking|forwarding|privacy", top=args.top)


if __name__ == "__main__":
    main()
