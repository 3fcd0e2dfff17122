"""The whole stack on loopback, for a fault drill: Postgres and Redis of its own, gunicorn, Celery, the emulator.

Everything lives in one temporary directory and on spare 127.0.0.1 ports, so killing and restarting
any piece disturbs nothing else on the machine. Each process runs in its own process group (a
SIGKILL takes its children too) and writes its output to `<tmp>/logs/<name>.log`.
"""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG_BIN = Path(os.environ.get("SEAM_CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SITE_ID, API_KEY = "chaos-site", "chaos-track-api-key-d0n0tl0g"


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 — not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")


class Process:
    """One long-running command in its own process group, output to a log file."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], logs: Path, user: str | None = None):
        self.name = name
        self.command = command
        self.env = env
        self.log_path = logs / f"{name}.log"
        self.user = user
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "Process":
        self.starts += 1
        log = self.log_path.open("a")
        log.write(f"--- start {self.starts} ---\n")
        log.flush()
        command = ["runuser", "-u", self.user, "--", *self.command] if self.user else self.command
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown, no acknowledgements, as a crash would."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def _signal(self, sig: int) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            if sig == signal.SIGKILL:
                self.process.wait(timeout=30)

    def tail(self, lines: int = 30) -> str:
        try:
            return "".join(self.log_path.read_text(errors="replace").splitlines(keepends=True)[-lines:])
        except FileNotFoundError:
            return ""


class Stack:
    """Postgres, Redis, gunicorn, a Celery worker, beat and the Customer.io emulator, all on loopback."""

    def __init__(self, tmp: Path, *, web_workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pg_port, self.redis_port, self.web_port, self.emulator_port = (spare_port() for _ in range(4))
        self.pg_data = tmp / "pg"
        self.pg_socket = tmp / "pgsock"
        # initdb and postgres refuse to run as root: run them as the postgres account then.
        self.pg_user = "postgres" if os.geteuid() == 0 else None
        self.database_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/seam"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.emulator_url = f"http://127.0.0.1:{self.emulator_port}"
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("SEAM_", "DATABASE_", "REDIS_"))},
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SEAM_VAR_DIR": str(tmp / "var"),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.web_workers = web_workers
        self.redis = Process(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no",
             "--dir", str(tmp)],
            env=self.env,
            logs=self.logs,
        )  # fmt: skip
        self.web = Process(
            "web",
            [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{self.web_port}", "--workers",
             str(web_workers), "--threads", "4", "--timeout", "60", "--graceful-timeout", "5"],
            env=self.env,
            logs=self.logs,
        )  # fmt: skip
        self.beat = Process(
            "beat",
            [str(BIN / "celery"), "-A", "config", "beat", "--loglevel", "INFO", "--schedule", str(tmp / "beat")],
            env=self.env,
            logs=self.logs,
        )
        self.emulator = Process(
            "emulator",
            [str(BIN / "python"), "-m", "customerio_emulator", "--port", str(self.emulator_port), "--credentials",
             f"{SITE_ID}:{API_KEY}"],
            env=self.env,
            logs=self.logs,
        )  # fmt: skip
        self.workers: list[Process] = []

    # --- Postgres ---------------------------------------------------------------------------------

    def postgres_init(self) -> None:
        self.pg_data.mkdir()
        self.pg_socket.mkdir()
        if self.pg_user:
            account = pwd.getpwnam(self.pg_user)
            for path in (self.tmp, self.pg_data, self.pg_socket, self.logs):
                os.chown(path, account.pw_uid, account.pw_gid)
            os.chmod(self.tmp, 0o755)
        self._pg(
            PG_BIN / "initdb", "-D", self.pg_data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        self.postgres_start()
        self._pg(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "seam")

    def postgres_start(self) -> None:
        options = (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.pg_socket} -c max_connections=200 "
            # Only an OS crash could lose what these skip; a Postgres crash (our `immediate` stop) cannot.
            # Never synchronous_commit=off: a crash of Postgres alone then loses acknowledged commits.
            "-c fsync=off -c full_page_writes=off"
        )
        self._pg(PG_BIN / "pg_ctl", "-D", self.pg_data, "-o", options, "-l", self.logs / "postgres.log", "-w", "start")

    def postgres_stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash as far as clients can tell: no goodbye, recovery from the WAL on start."""
        self._pg(PG_BIN / "pg_ctl", "-D", self.pg_data, "-m", mode, "-w", "stop")

    def _pg(self, *command) -> None:
        argv = [str(part) for part in command]
        if self.pg_user:
            argv = ["runuser", "-u", self.pg_user, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")

    # --- the rest ---------------------------------------------------------------------------------

    def redis_start(self) -> None:
        self.redis.start()
        wait_until(lambda: self._redis_ping(), "redis", 20)

    def redis_restart(self, down_seconds: float = 1.0) -> None:
        self.redis.kill()
        time.sleep(down_seconds)
        self.redis_start()

    def _redis_ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def web_start(self) -> None:
        self.web.start()
        wait_until(lambda: requests.get(f"{self.web_url}/healthz", timeout=1).ok, "gunicorn", 60)

    def emulator_start(self) -> None:
        self.emulator.start()
        wait_until(lambda: requests.get(f"{self.emulator_url}/_emulator/stats", timeout=1).ok, "the emulator", 30)

    def worker_start(self) -> Process:
        number = len(self.workers) + 1
        worker = Process(
            f"worker{number}",
            [str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO", "--concurrency", "2", "--hostname",
             f"chaos{number}@%h", "--without-mingle", "--without-gossip"],
            env=self.env,
            logs=self.logs,
        ).start()  # fmt: skip
        self.workers.append(worker)
        wait_until(lambda: "ready" in worker.tail(200), f"worker {number}", 60)
        return worker

    def beat_start(self) -> None:
        self.beat.start()
        wait_until(lambda: "beat: Starting" in self.beat.tail(200), "beat", 60)

    def processes(self) -> list[Process]:
        return [self.web, self.beat, self.emulator, *self.workers, self.redis]

    def stop(self) -> None:
        for process in self.processes():
            process.stop()
        if (self.pg_data / "postmaster.pid").exists():
            try:
                self.postgres_stop("fast")
            except RuntimeError as error:
                print(error, file=sys.stderr)

    def remove(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
