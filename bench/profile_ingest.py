"""Where ingest's time goes: cProfile of the batch and single-message write paths, in process.

    .venv/bin/python bench/profile_ingest.py [--batches 5] [--top 20]

Uses make bench's scratch Postgres database (reset first) and Django's test client, so what is
profiled is the request as the API runs it, minus gunicorn. Prints milliseconds per request, the
queries per request, Seam's functions by cumulative time and all functions by time of their own.
bench/ANALYSIS.md quotes it.
"""

import argparse
import cProfile
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.profiling import django_ready, ingest_poster, ingest_requests, profile_print, statements_print


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    django_ready()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    post = ingest_poster()
    for label, (path, body) in ingest_requests().items():
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
