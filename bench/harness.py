"""Shared machinery for benchmarks: a scratch Postgres database, a gunicorn server, wrk runs.

Everything runs on this machine against 127.0.0.1 only, bounded in time.
"""

import os
import re
import resource
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
# The production-like server every HTTP benchmark uses (documented in bench/RESULTS.md).
GUNICORN_WORKERS = 4
GUNICORN_THREADS = 2


def bench_env() -> dict[str, str]:
    """A Postgres + Redis environment of its own: DATABASE_URL's database name gets a `_bench` twin."""
    url = urlparse(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if url.scheme not in ("postgres", "postgresql"):
        sys.exit("make bench measures the production path: set DATABASE_URL to a Postgres URL")
    name = url.path.lstrip("/") or "seam"
    bench_url = urlunparse(url._replace(path=f"/{name if name.endswith('_bench') else name + '_bench'}"))
    return {
        **os.environ,
        "DEBUG": "1",  # demo keys and seed commands; the server itself behaves as in production
        "DATABASE_URL": bench_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SEAM_VAR_DIR": str(ROOT / "var" / "bench"),
        "LOG_LEVEL": "WARNING",
    }


def database_reset(env: dict[str, str]) -> None:
    """Drop and re-create the bench database, then migrate it."""
    url = urlparse(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    manage(env, "migrate", "--noinput", "-v0")


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
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [self.process.pid, *map(int, children.stdout.split())]


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
        env=env,
        start_new_session=True,
    )
    try:
        _wait_for_port(port)
        yield Server(f"http://127.0.0.1:{port}", process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@contextmanager
def process(env: dict[str, str], *command: str):
    """Any other process of the stack (Celery worker, beat, the emulator) for the length of a block."""
    proc = subprocess.Popen(
        list(command), cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
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
