"""Shared machinery for benchmarks: a scratch Postgres database, a gunicorn server, wrk runs.

Everything runs on this machine against 127.0.0.1 only, bounded in time.
"""

import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/seam_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
# BENCH_SCALE=0.05 shrinks every benchmark's event counts and durations for a quick check of the machinery;
# the figures that count (bench/RESULTS.md) are measured at 1.
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
# The production-like server every HTTP benchmark uses (documented in bench/RESULTS.md). Threads enough that
# single messages arriving together share a commit (events/services.py: event_store_grouped; with 2 a worker
# had at most one other request to group with). Four workers, not one per core: with two, the bare view
# (P2's baseline) served 1,700-1,900 requests/s against 4,200-4,500 with four, while Seam gained little.
GUNICORN_WORKERS = 4
GUNICORN_THREADS = 8


def bench_env() -> dict[str, str]:
    """A Postgres + Redis environment of its own: DATABASE_URL's database name gets a `_bench` twin."""
    url = urlparse(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if url.scheme not in ("postgres", "postgresql"):
        sys.exit("make bench measures the production path: set DATABASE_URL to a Postgres URL")
    name = url.path.lstrip("/") or "seam"
    bench_url = urlunparse(url._replace(path=f"/{name if name.endswith('_bench') else name + '_bench'}"))
    return {
        **os.environ,
        "DEBUG": "1",  # for manage.py set-up commands; the processes measured run with production_env()
        "DATABASE_URL": bench_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SEAM_VAR_DIR": str(ROOT / "var" / "bench"),
        "LOG_LEVEL": "WARNING",
    }


def production_env(env: dict[str, str]) -> dict[str, str]:
    """`env` as production runs the server and workers: DEBUG off (no query log, no debug cursor wrapper).

    Loopback has no TLS, so the HTTPS redirect is off, as behind a proxy that terminates TLS."""
    return {
        **env,
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + secrets.token_hex(24),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
    }


# What bench/floors.py's `Accepted` views write: each valid message as it is, one row each.
ACCEPTED_TABLE = (
    "CREATE TABLE bench_accepted (id bigserial PRIMARY KEY, source_id bigint NOT NULL, "
    "received_at timestamptz NOT NULL, message jsonb NOT NULL)"
)


def database_reset(env: dict[str, str]) -> None:
    """Drop and re-create the bench database, migrate it and add the table bench/floors.py's views write."""
    url = urlparse(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "--noinput", "-v0")
    sql(env, ACCEPTED_TABLE)


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)


@contextmanager
def gunicorn(env: dict[str, str]):
    port = free_port()
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--threads",
            str(GUNICORN_THREADS),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=production_env(env),
        start_new_session=True,
    )
    try:
        _wait_for_port(port)
        yield Server(f"http://127.0.0.1:{port}", process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@contextmanager
def process(env: dict[str, str], *command: str, log: str):
    """Any other process of the stack (Celery worker, beat, the emulator) for the length of a block.

    Its output goes to var/bench/logs/`log` (appended): a pipe nobody reads would stall it once full.
    """
    logs = Path(env["SEAM_VAR_DIR"]) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / log, "ab") as output:
        proc = subprocess.Popen(
            list(command), cwd=ROOT, env=env, start_new_session=True, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


EMULATOR_SITE, EMULATOR_KEY = "bench-site", "bench-track-key"
# The forwarding worker every forwarding benchmark uses: as in Procfile.dev, one process per core.
WORKER_CONCURRENCY = 2
DRAIN_TIMEOUT = 900  # seconds a benchmark waits for the outbox to empty


@contextmanager
def emulator(env: dict[str, str]):
    """The Customer.io emulator on a spare port; yields its base URL."""
    port = free_port()
    command = [str(VENV_BIN / "python"), "-m", "customerio_emulator", "--port", str(port)]
    with process(env, *command, "--credentials", f"{EMULATOR_SITE}:{EMULATOR_KEY}", log="emulator.log"):
        _wait_for_port(port)
        yield f"http://127.0.0.1:{port}"


@contextmanager
def forwarders(env: dict[str, str]):
    """The forwarding worker, the maintenance worker and beat, as `make run` starts them (Procfile.dev);
    yields the forwarding worker's process."""
    env = production_env(env)
    celery = [str(VENV_BIN / "celery"), "-A", "config"]
    quiet = ["--loglevel", "WARNING"]
    forwarding = [*celery, "worker", "--queues", "celery", "--concurrency", str(WORKER_CONCURRENCY), *quiet]
    maintenance = [*celery, "worker", "--queues", "maintenance", "--concurrency", "1", *quiet]
    with (
        process(env, *forwarding, "--hostname", "forwarding@%h", log="worker.log") as worker_process,
        process(env, *maintenance, "--hostname", "maintenance@%h", log="maintenance.log"),
        process(env, *celery, "beat", *quiet, log="beat.log"),
    ):
        yield worker_process


def workspace_source(env: dict[str, str], emulator_url: str, *, workspace: str = "Bench") -> dict:
    """A server source whose workspace forwards to the emulator (create_source's JSON, with its write key)."""
    output = manage(
        env,
        "create_source",
        "--workspace",
        workspace,
        "--kind",
        "server",
        "--track-url",
        emulator_url,
        "--site-id",
        EMULATOR_SITE,
        "--api-key",
        EMULATOR_KEY,
    )
    return json.loads(output)


def sql(env: dict[str, str], query: str, *params) -> list[tuple]:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
        cursor = connection.execute(query, params or None)
        return cursor.fetchall() if cursor.description else []


_OPEN = "workspace_id = %s AND state IN ('pending', 'sending')"  # a workspace's deliveries still to send


def open_deliveries(env: dict[str, str], workspace_id: int) -> int:
    """Deliveries of the workspace still to send (pending or being sent)."""
    ((count,),) = sql(env, f"SELECT count(*) FROM forwarding_delivery WHERE {_OPEN}", workspace_id)  # noqa: S608
    return count


def wait_drained(env: dict[str, str], workspace_id: int) -> bool:
    """Wait until the workspace's outbox has nothing open; False after DRAIN_TIMEOUT seconds."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        # Whether any is open, not how many: a count of a 100,000-row backlog every half second took
        # Postgres CPU from the drain it was timing, and its snapshot kept the drain's dead rows alive.
        ((still_open,),) = sql(env, f"SELECT EXISTS (SELECT 1 FROM forwarding_delivery WHERE {_OPEN})", workspace_id)  # noqa: S608
        if not still_open:
            return True
        time.sleep(0.5)
    return False


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of these processes, summed (a process that has gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * resource.getpagesize()
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    pids, frontier = [pid], [pid]
    while frontier:
        children = subprocess.run(["pgrep", "-P", str(frontier.pop())], capture_output=True, text=True)
        found = [int(child) for child in children.stdout.split()]
        pids += found
        frontier += found
    return pids


def _wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    non_2xx: int
    errors: int
    latency_p50_ms: float
    latency_p99_ms: float
    cpu_seconds: float  # wrk's own CPU time: compared with the wall time, it shows wrk was not the limit
    duration: float


def wrk(url: str, script: Path, *, seconds: int, connections: int, threads: int = 1) -> WrkResult:
    """Run wrk with a Lua script that sets method, headers and body; parse its summary."""
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench does it)")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkResult(
        requests_per_second=float(_find(r"Requests/sec:\s+([\d.]+)", output)),
        requests=int(_find(r"(\d+) requests in", output)),
        non_2xx=int(_find(r"Non-2xx or 3xx responses: (\d+)", output, "0")),
        errors=sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)),
        latency_p50_ms=_ms(_find(r"50%\s+([\d.]+\w+)", output)),
        latency_p99_ms=_ms(_find(r"99%\s+([\d.]+\w+)", output)),
        cpu_seconds=cpu,
        duration=seconds,
    )


def _find(pattern: str, text: str, default: str | None = None) -> str:
    match = re.search(pattern, text)
    if match:
        return match.group(1)
    if default is not None:
        return default
    raise RuntimeError(f"wrk output lacks {pattern!r}:\n{text}")


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
