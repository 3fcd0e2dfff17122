"""Running the emulator: TLS for the https-only SDK, `python -m customerio_emulator`, the Django command."""

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from customerio_emulator.cli import parse_credentials
from customerio_emulator.server import EmulatorConfig, make_server

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def self_signed_cert(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_it_serves_https_when_given_a_certificate(self_signed_cert):
    cert, key = self_signed_cert
    server = make_server(EmulatorConfig(port=0, tls_cert=str(cert), tls_key=str(key))).start_in_thread()
    try:
        assert server.base_url.startswith("https://")
        url = f"{server.base_url}/api/v1/customers/u1"
        auth = ("demo-site", "demo-key")
        response = requests.put(url, json={"plan": "pro"}, auth=auth, verify=str(cert), timeout=5)
        assert response.status_code == 200
        region = requests.get(f"{server.base_url}/api/v1/accounts/region", auth=("demo-site", "demo-key"),
                              verify=str(cert), timeout=5)  # fmt: skip
        assert region.json()["url"].startswith("https://127.0.0.1:")
    finally:
        server.stop()


def test_it_survives_a_plain_http_client_on_the_tls_port(self_signed_cert):
    cert, key = self_signed_cert
    server = make_server(EmulatorConfig(port=0, tls_cert=str(cert), tls_key=str(key))).start_in_thread()
    try:
        with pytest.raises(requests.ConnectionError):
            requests.get(server.base_url.replace("https", "http") + "/_emulator/stats", timeout=5)
        stats = requests.get(f"{server.base_url}/_emulator/stats", verify=str(cert), timeout=5)
        assert stats.status_code == 200
    finally:
        server.stop()


def test_it_parses_repeated_credentials():
    assert parse_credentials(None) == {"demo-site": "demo-key"}
    assert parse_credentials(["a:b", "c:d:e"]) == {"a": "b", "c": "d:e"}
    with pytest.raises(ValueError, match="SITE:KEY"):
        parse_credentials(["nokey"])


def test_it_runs_as_a_module_until_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "customerio_emulator", "--port", "0", "--credentials", "site-a:key-a"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        base_url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        response = requests.get(f"{base_url}/api/v1/accounts/region", auth=("site-a", "key-a"), timeout=5)
        assert response.json()["region"] == "us"
        default = requests.get(f"{base_url}/api/v1/accounts/region", auth=("demo-site", "x"), timeout=5)
        assert default.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=5)
    assert process.returncode == 0
    assert "stopped" in output


def test_it_offers_the_same_options_as_a_django_command():
    pytest.importorskip("django")
    from customerio_emulator.management.commands.customerio_emulator import Command

    parser = Command().create_parser("manage.py", "customerio_emulator")
    options = vars(parser.parse_args(["--port", "9000", "--credentials", "s:k", "--credentials", "t:l"]))

    assert options["host"] == "127.0.0.1"
    assert options["port"] == 9000
    assert options["credentials"] == ["s:k", "t:l"]
    assert options["tls_cert"] is None
