"""`make bench`: every benchmark, each as a ratio against a baseline measured in the same run.

Prints a table and writes it to bench/RESULTS.md with a description of the machine.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import forwarding, ingest, memory
from bench.cpu_split import cpu_split_table
from bench.harness import (
    GUNICORN_THREADS,
    GUNICORN_WORKERS,
    ROOT,
    SCALE,
    VENV_BIN,
    WORKER_CONCURRENCY,
    bench_env,
    database_reset,
    sql,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# What the figures mean, gaps and their profiles: hand-written, appended to every RESULTS.md.
ANALYSIS = Path(__file__).resolve().parent / "ANALYSIS.md"


def in_process(script: str, **sizes: int):
    """A suite that is its own script (Django in process, a scratch database of its own): its rows."""

    def run(env: dict, workdir: Path) -> list[dict]:
        rows = workdir / f"{script}.json"
        options = [f"--{name}={max(1, int(size * SCALE))}" for name, size in sizes.items()]
        command = [str(VENV_BIN / "python"), f"bench/{script}.py", *options, "--rows", str(rows)]
        subprocess.run(command, cwd=ROOT, env=env, check=False)
        return json.loads(rows.read_text())

    return run


SUITES = {
    "ingest": ingest.run,  # P1, P2, the naive build and P1's and P2's floors (bench/floors.py)
    "forwarding": forwarding.run,  # P3, P4
    "identify": in_process("identify_cost", history=100_000),  # P5
    "dashboard": in_process("dashboard_scale", large=1_000_000, small=10_000),  # P6
    "memory": memory.run,  # P7
}


# Measured after a suite and kept in RESULTS.md under the table: the profile that shows where a gap comes from.
PROFILES = {
    "ingest": ("Where ingest's machine time goes, this run (bench/cpu_split.py)", cpu_split_table),
}


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.platform()}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def table(rows: list[dict]) -> str:
    lines = [
        "| # | measure | Seam | baseline | ratio | target | met | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row["value"] / row["baseline"] if row["baseline"] else float("nan")
        met = {True: "yes", False: "**no**", None: "—"}[row["ok"]]
        lines.append(
            f"| {row['id']} | {row['measure']} | {row['value']:,.1f} | {row['baseline']:,.1f} "
            f"({row['baseline_name']}) | {ratio:.2f} | {row['target']} | {met} | {row['note']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("suites", nargs="*", help=f"any of {', '.join(SUITES)} (default: all, in that order)")
    parser.add_argument("--no-write", action="store_true", help="print the table only; leave RESULTS.md")
    args = parser.parse_args()
    args.suites = args.suites or list(SUITES)
    if unknown := set(args.suites) - set(SUITES):
        parser.error(f"no such suite: {', '.join(sorted(unknown))}")
    # A SIGTERM (timeout, Ctrl-C's cousin) unwinds the stack, so every server a suite started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = bench_env()
    rows, profiles = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.suites:
            database_reset(env)
            rows += SUITES[name](env, Path(workdir))
            print(table(rows), flush=True)
            if name in PROFILES:
                title, measure = PROFILES[name]
                database_reset(env)
                profiles[title] = measure(env, Path(workdir))
                print(f"\n{title}\n{profiles[title]}", flush=True)
            if not args.no_write and SCALE == 1:  # what is measured is kept
                results_write(rows, profiles, args.suites[: args.suites.index(name) + 1], env)


def postgres(env: dict[str, str]) -> str:
    """The server's version and the settings that change what the figures mean."""
    names = ("server_version", "autovacuum", "synchronous_commit")
    ((version, *settings),) = sql(env, f"SELECT {', '.join(['current_setting(%s)'] * len(names))}", *names)
    described = ", ".join(f"{name} {value}" for name, value in zip(names[1:], settings, strict=True))
    return f"Postgres {version} ({described})"


def results_write(rows: list[dict], profiles: dict[str, str], suites: list[str], env: dict[str, str]) -> None:
    RESULTS.write_text(
        "# Benchmark results\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()} (`make bench`, suites: "
        f"{', '.join(suites)}).\n"
        f"Server: gunicorn, {GUNICORN_WORKERS} gthread workers x {GUNICORN_THREADS} threads; a forwarding Celery "
        f"worker (prefork, concurrency {WORKER_CONCURRENCY}), a maintenance worker (concurrency 1) and beat; "
        f"{postgres(env)} and Redis on the same machine; the Customer.io emulator; load from wrk (P1, P2) or "
        "bench/load.py (P3, P4, P7) on loopback. Ratios compare with a baseline measured in the same run.\n\n"
        f"{table(rows)}\n\n"
        + "".join(f"### {title}\n\n{profile}\n\n" for title, profile in profiles.items())
        + (ANALYSIS.read_text() if ANALYSIS.exists() else "")
    )


if __name__ == "__main__":
    main()
