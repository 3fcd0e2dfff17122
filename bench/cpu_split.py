"""Where an ingest request's machine time goes: CPU of gunicorn's processes, of Postgres's and the rest, per request.

    .venv/bin/python bench/cpu_split.py [--seconds 20] [--connections 32] [--only batch]

Serves make bench's scratch database with the benchmark's gunicorn (bench/harness.py) and loads it with wrk as
P1 and P2 do: a 100-message batch, one message (/v1/track), each one's floors (bench/floors.py) and the bare
view. Around each wrk run it reads /proc: the CPU time of the gunicorn tree, of every `postgres` process and of
the whole machine (the rest is wrk, Redis and everything else on it). Numbers move with the machine; the split
between them is the point.
bench/ANALYSIS.md quotes it.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import SCALE, bench_env, database_reset, gunicorn, wrk
from bench.ingest import BATCH_SIZE, CONNECTIONS, lua_script, message, source_key

TICKS = os.sysconf("SC_CLK_TCK")


HEADER = f"| load | requests/s | ms of CPU per request: gunicorn | Postgres | rest | idle % |\n|{'---|' * 6}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="wrk's clients (P1's and P2's: 32)")
    parser.add_argument("--only", help="the loads whose label contains this (e.g. batch)")
    args = parser.parse_args()
    env = bench_env()
    database_reset(env)
    print(HEADER)
    with tempfile.TemporaryDirectory() as workdir:
        for line in cpu_split(env, Path(workdir), seconds=args.seconds, connections=args.connections, only=args.only):
            print(line, flush=True)


def cpu_split_table(env: dict[str, str], workdir: Path) -> str:
    """The whole table, for make bench (bench/run.py) to keep in RESULTS.md, with how it was measured."""
    seconds = max(3, int(10 * SCALE))
    rows = cpu_split(env, workdir, seconds=seconds, connections=CONNECTIONS)
    how = f"Each load {seconds} s after 3 s of warm-up, {CONNECTIONS} wrk clients, the P1/P2 server; CPU from /proc."
    return "\n".join([how, "", HEADER, *rows])


def cpu_split(
    env: dict[str, str], workdir: Path, *, seconds: int, connections: int, only: str | None = None
) -> Iterator[str]:
    """One table row per load, as measured: on a database reset by the caller."""
    key = source_key(env)
    batch = orjson.dumps({"batch": [message(n) for n in range(BATCH_SIZE)]})
    single = orjson.dumps(message(0))
    loads = {  # Seam's requests, each followed by its floors (bench/floors.py)
        f"/v1/batch ({BATCH_SIZE} messages)": ("/v1/batch", batch),
        "batch floor: validated, nothing stored": ("/bench/floor/validated/batch", batch),
        "batch floor: accepted, written as it came": ("/bench/floor/accepted/batch", batch),
        "/v1/track (1 message)": ("/v1/track", single),
        "single floor: validated, nothing stored": ("/bench/floor/validated/track", single),
        "single floor: accepted, written as it came": ("/bench/floor/accepted/track", single),
        "single floor: DRF view returning {}": ("/bench/floor/framework", b"{}"),
        "bare view": ("/bench/bare", b"{}"),
    }
    with gunicorn(env) as server:
        for label, (path, body) in loads.items():
            if only and only not in label:
                continue
            script = lua_script(workdir / "cpu_split.lua", key=key, body=body)
            wrk(server.url + path, script, seconds=3, connections=connections)  # warm
            web, database, (busy, idle) = _cpu(server.pids()), _cpu(_postgres_pids()), _machine()
            result = wrk(server.url + path, script, seconds=seconds, connections=connections)
            web, database = _cpu(server.pids()) - web, _cpu(_postgres_pids()) - database
            busy_after, idle_after = _machine()
            busy, idle = busy_after - busy, idle_after - idle
            per_request = 1000 / result.requests
            yield (
                f"| {label} | {result.requests_per_second:,.0f} | {web * per_request:.2f} | "
                f"{database * per_request:.2f} | {(busy - web - database) * per_request:.2f} | "
                f"{idle / (busy + idle):.0%} |"
            )


def _cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (one that has gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _postgres_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def _machine() -> tuple[float, float]:
    """CPU seconds of the whole machine, busy and idle (iowait counted idle)."""
    with open("/proc/stat") as stat:
        user, nice, system, idle, iowait, irq, softirq, steal = (int(n) for n in stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS, (idle + iowait) / TICKS


if __name__ == "__main__":
    main()
