"""Fixtures shared by every app's tests: a workspace with a browser and a server source."""

import base64

import pytest
from rest_framework.test import APIClient

from tracking import services as tracking_services
from workspaces.models import Source
from workspaces.services import source_create, workspace_ensure

# `browser`: headless Chromium for any app's browser tests.
pytest_plugins = ["tests.browser"]

BROWSER_KEY = "pk_test_browser_key"
SERVER_KEY = "sk_test_server_key"


@pytest.fixture(autouse=True)
def _ingest_rate_limits_off(settings):
    """Tests send far faster than any client may; events/tests/test_throttling.py turns the limits on."""
    settings.SEAM_INGEST_RATE_PER_IP = 0
    settings.SEAM_INGEST_RATE_PER_KEY = 0


@pytest.fixture(autouse=True)
def _property_types_forgotten():
    """What this process remembers having recorded must not outlive the rows a test's database loses."""
    yield
    tracking_services._types_recorded.clear()


@pytest.fixture
def workspace(db):
    workspace, _ = workspace_ensure(name="Acme", track_api_url="http://127.0.0.1:9", site_id="s", track_api_key="k")
    return workspace


@pytest.fixture
def browser_source(workspace):
    source, _ = source_create(workspace=workspace, name="web", kind=Source.Kind.BROWSER, write_key=BROWSER_KEY)
    return source


@pytest.fixture
def server_source(workspace):
    source, _ = source_create(workspace=workspace, name="backend", kind=Source.Kind.SERVER, write_key=SERVER_KEY)
    return source


def basic_auth(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.fixture
def api(server_source):
    """An API client that writes as the server source (Basic auth, as the server SDKs send it)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(SERVER_KEY))
    return client
