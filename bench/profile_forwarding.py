"""Where forwarding's time goes: cProfile of one worker draining a backlog to the emulator, in process.

    .venv/bin/python bench/profile_forwarding.py [--events 10000] [--top 20]

Uses make bench's scratch Postgres database (reset first) and a real emulator over HTTP. The backlog
is ingested paused through Django's test client and analyzed (as the benchmark does), then
`deliveries_send` (what the Celery task runs) drains it with no rate limit in the way. Prints events/s,
requests, queries per Customer.io request, time by statement, Seam's functions by cumulative time and
all functions by time of their own. bench/ANALYSIS.md quotes it.
"""

import argparse
import base64
import cProfile
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import EMULATOR_KEY, EMULATOR_SITE, bench_env, emulator
from bench.profiling import django_ready, profile_print, statements_print


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    django_ready()
    import orjson
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.load import storefront_batch
    from forwarding.models import Delivery
    from forwarding.services import deliveries_send
    from workspaces.models import Source
    from workspaces.services import source_create, workspace_ensure

    settings.ALLOWED_HOSTS = ["*"]
    with emulator(bench_env()) as emulator_url:
        workspace, _ = workspace_ensure(
            name="Profile", track_api_url=emulator_url, site_id=EMULATOR_SITE, track_api_key=EMULATOR_KEY
        )
        workspace.forwarding_paused = True
        workspace.rate_limit_per_second = 10_000
        workspace.save()
        _, key = source_create(workspace=workspace, name="profile", kind=Source.Kind.SERVER)
        client = Client()
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        for request in range(args.events // 100):
            body = orjson.dumps({"batch": storefront_batch(request, 100, anonymous_share=0.0, prefix="pf")})
            response = client.post("/v1/batch", data=body, content_type="application/json", HTTP_AUTHORIZATION=auth)
            assert response.status_code == 200, response.content
        backlog = Delivery.objects.filter(state=Delivery.State.PENDING).count()
        with connection.cursor() as cursor:  # as autovacuum would within a minute, and as the benchmark does
            cursor.execute("VACUUM ANALYZE")
        workspace.forwarding_paused = False
        workspace.save()

        reset_queries()  # the count below starts from an empty log
        profile = cProfile.Profile()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            profile.enable()
            report = deliveries_send(workspace=workspace, time_budget=600)
            profile.disable()
        elapsed = time.perf_counter() - started
        print(
            f"\n## {backlog:,} deliveries: {report.delivered:,} delivered in {elapsed:.1f} s "
            f"({report.delivered / elapsed:,.0f} events/s under cProfile), {report.requests} requests, "
            f"{len(queries.captured_queries) / max(report.requests, 1):.1f} queries per request\n"
        )
        statements_print(queries.captured_queries)
        slowest = sorted(queries.captured_queries, key=lambda query: -float(query["time"]))[:5]
        print("### The slowest queries\n")
        for query in slowest:
            print(f"{float(query['time']) * 1000:8.1f} ms  {query['sql'][:300]}")
        print()
        profile_print(profile, apps="forwarding|workspaces", top=args.top)


if __name__ == "__main__":
    main()
