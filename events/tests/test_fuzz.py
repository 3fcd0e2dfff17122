"""Schema-driven fuzzing of the ingest endpoints (schemathesis): never a 5xx, every error {code, message}.

The OpenAPI document at /api/schema/ drives the generator: valid requests (positive mode) and
requests that break the schema on purpose (negative mode: wrong types, missing fields, bad
headers), each sent through Django's WSGI app with a valid write key, and again with whatever
credentials the generator makes up. SEAM_FUZZ_EXAMPLES sets the examples per operation and mode
(default 100: about 5,500 cases a run, with its coverage phase); the README reports a larger run.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from conftest import SERVER_KEY, basic_auth
from events.api.schema import ErrorSerializer

EXAMPLES = int(os.environ.get("SEAM_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
ERROR_KEYS = set(ErrorSerializer().fields) - {"field"}

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).include(tag="ingest")
schema.config.generation.update(modes=list(schemathesis.GenerationMode))

seen = {"cases": 0, "statuses": {}}


def assert_well_behaved(response) -> None:
    seen["cases"] += 1
    seen["statuses"][response.status_code] = seen["statuses"].get(response.status_code, 0) + 1
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and set(body) >= ERROR_KEYS, response.text[:500]
        assert all(isinstance(body[key], str) and body[key] for key in ERROR_KEYS)


@schema.parametrize()
@FUZZ
@pytest.mark.django_db
def test_generated_requests_with_a_valid_key_never_fail_the_server(case, server_source):
    assert_well_behaved(case.call(headers={"Authorization": basic_auth(SERVER_KEY)}))


@schema.parametrize()
@FUZZ
@pytest.mark.django_db
def test_generated_requests_with_generated_credentials_never_fail_the_server(case, server_source):
    assert_well_behaved(case.call())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the WSGI handler must not close the connection of the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nschemathesis: {seen['cases']} cases, statuses {dict(sorted(seen['statuses'].items()))}")  # noqa: T201
