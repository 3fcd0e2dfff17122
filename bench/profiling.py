"""What the in-process profilers (profile_ingest.py, profile_forwarding.py) share: a fresh bench database
with Django set up in this process, and how a profile is printed."""

import cProfile
import os
import pstats
import sys

from bench.harness import bench_env, database_reset, production_env


def django_ready() -> None:
    """Reset make bench's scratch Postgres database, migrate it and set Django up on it, here, as production
    runs (DEBUG off)."""
    env = bench_env()
    database_reset(env)
    os.environ.update(production_env(env))

    import django

    django.setup()


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
