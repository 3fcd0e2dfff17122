"""`make run`'s processes, started as it starts them, on the embedded default in a scratch directory."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.slow
BASE = settings.BASE_DIR
DEMO_SERVER_KEY = "sk_demo_server_write_key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    ports = {"SEAM_PORT": str(free_port()), "SEAM_EMULATOR_PORT": str(free_port())}
    return {**env, **ports, "DEBUG": "1", "SEAM_VAR_DIR": str(tmp_path)}


def manage(*args: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_run_serves_the_api_and_forwards_to_the_emulator(embedded_env):
    manage("migrate", "--noinput", env=embedded_env)
    printed = manage("seed_demo", env=embedded_env)
    assert DEMO_SERVER_KEY in printed and "/admin/" in printed

    honcho = subprocess.Popen(
        [str(BASE / ".venv/bin/honcho"), "--procfile", "Procfile.dev", "start"],
        cwd=BASE,
        env=embedded_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(iter(honcho.stdout.readline, "")), daemon=True).start()
    base_url = f"http://127.0.0.1:{embedded_env['SEAM_PORT']}"
    try:
        _wait_for(lambda: requests.get(f"{base_url}/healthz", timeout=1).ok, "the web server")
        for worker in ("forwarding@", "maintenance@"):
            _wait_for(lambda w=worker: any(w in line and "ready" in line for line in output), f"the {worker} worker")
        _wait_for(lambda: any("beat: Starting" in line for line in output), "Celery beat")
        emulator_url = f"http://127.0.0.1:{embedded_env['SEAM_EMULATOR_PORT']}"
        _wait_for(lambda: requests.get(f"{emulator_url}/_emulator/stats", timeout=1).ok, "the Customer.io emulator")
        assert emulator_url in printed

        response = requests.post(
            f"{base_url}/v1/track",
            json={"userId": "u-1", "event": "order_completed", "properties": {"order_id": "o-1"}},
            auth=(DEMO_SERVER_KEY, ""),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        # seed_demo stores thirty days of demo traffic; this counts the one event just sent.
        query = "from events.models import Event; print(Event.objects.filter(user_id='u-1').count())"
        count = manage("shell", "-c", query, env=embedded_env)
        assert count.strip().splitlines()[-1] == "1"
        assert requests.get(f"{base_url}/admin/login/", timeout=5).status_code == 200

        def forwarded() -> bool:
            person = requests.get(f"{emulator_url}/_emulator/people/u-1", params={"site_id": "demo-site"}, timeout=2)
            return person.ok and [e["name"] for e in person.json()["events"]] == ["order_completed"]

        # It queues behind the demo's two months of traffic, which the worker forwards first (oldest first,
        # anonymous events one request each within 100 requests/s): on a loaded machine that takes a while.
        _wait_for(forwarded, "the event to reach the emulated Customer.io", seconds=180)
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        honcho.wait(timeout=30)


def _wait_for(check, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} did not start within {seconds} s")
