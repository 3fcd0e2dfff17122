"""Real Celery worker and beat processes against the test database, for end-to-end forwarding tests."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

CELERY = str(Path(settings.BASE_DIR) / ".venv" / "bin" / "celery")


def test_database_url() -> str:
    """The URL of the database this test runs on, for processes of our own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryProcess:
    """`celery -A config <worker|beat>` in its own process group, with its output kept for assertions."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [CELERY, "-A", "config", *args],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DEBUG": "1", "DATABASE_URL": test_database_url(), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in iter(self.process.stdout.readline, ""):
            self.output.append(line)

    def wait_for(self, text: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in line for line in self.output):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not seen; output:\n{''.join(self.output[-40:])}")

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown, no acknowledgements, as a crash would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a few seconds: a warm shutdown would wait out a send loop's
        time budget, and the tests have already checked what they needed."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.kill()


def worker(env: dict[str, str], name: str = "w1") -> CeleryProcess:
    process = CeleryProcess(
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        "2",
        "--hostname",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        env=env,
    )
    process.wait_for("ready")
    return process


def beat(env: dict[str, str], schedule_dir: Path) -> CeleryProcess:
    process = CeleryProcess("beat", "--loglevel", "INFO", "--schedule", str(schedule_dir / "beat-schedule"), env=env)
    process.wait_for("beat: Starting")
    return process


def wait_until(check, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
