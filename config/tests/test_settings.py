"""Production settings: refuse unsafe boots, and pass Django's deployment checklist."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from tests.plans import skip_unless_prepared_statements

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "seam.example",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_refuses_to_boot_without_debug_and_without_a_secret_key():
    result = manage("check", env={**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_it_refuses_to_boot_in_production_with_the_development_key():
    result = manage("check", env={**PRODUCTION, "SECRET_KEY": settings.INSECURE_DEV_SECRET_KEY})
    assert result.returncode != 0


def test_it_refuses_a_malformed_boolean():
    result = manage("check", env={**PRODUCTION, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_on_postgres_a_statement_run_five_times_on_a_connection_is_prepared_there(api):
    """The write-key look-up every ingest request makes is planned once per connection, not per request."""
    skip_unless_prepared_statements()
    for _ in range(6):
        assert api.post("/v1/track", {"event": "Viewed", "anonymousId": "a"}, format="json").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any('FROM "workspaces_source"' in statement and "write_key_hash" in statement for statement in prepared)


def test_prepared_statements_can_be_turned_off_for_a_proxy_that_cannot_carry_them():
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}))"
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/seam?sslmode=prefer", "DEBUG": "1"}
    env["DATABASE_PREPARE_THRESHOLD"] = ""  # the default
    on = manage("shell", "-c", code, env=env)
    off = manage("shell", "-c", code, env={**env, "DATABASE_PREPARE_THRESHOLD": "0"})
    assert "'prepare_threshold': 5" in on.stdout and "'server_side_binding': True" in on.stdout, on.stderr
    assert "'sslmode': 'prefer'" in on.stdout  # the URL's own options are kept
    assert "prepare_threshold" not in off.stdout and "'sslmode': 'prefer'" in off.stdout, off.stderr
