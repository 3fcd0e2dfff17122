"""`make bench`: every benchmark, each as a ratio against a baseline measured in the same run.

Prints a table and writes it to bench/RESULTS.md with a description of the machine.
"""

import argparse
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ingest
from bench.harness import GUNICORN_THREADS, GUNICORN_WORKERS, bench_env, database_reset

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SUITES = {"ingest": ingest.run}


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
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], default=list(SUITES))
    args = parser.parse_args()
    env = bench_env()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.suites:
            database_reset(env)
            rows += SUITES[name](env, Path(workdir))
    report = table(rows)
    print(report)
    RESULTS.write_text(
        "# Benchmark results\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.\n"
        f"Server: gunicorn, {GUNICORN_WORKERS} gthread workers x {GUNICORN_THREADS} threads; Postgres and Redis "
        "on the same machine; load from wrk on loopback. Ratios compare with a baseline measured in the same run.\n\n"
        f"{report}\n"
    )


if __name__ == "__main__":
    main()
