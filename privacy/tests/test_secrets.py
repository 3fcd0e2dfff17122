"""Secrets never in logs, pages or API output; payloads never in logs; write keys read nothing.

The secrets: the workspace's Customer.io Track API key, a server write key, a browser source's
identity secret (and the user hashes made with it). One busy scenario runs with every logger at
DEBUG; then every admin page, the dashboards' pages and the JSON APIs are rendered and searched.
"""

import io
import logging

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import BROWSER_KEY, SERVER_KEY, basic_auth
from events.models import Event
from forwarding.models import Delivery
from forwarding.services import deliveries_send
from workspaces.identity_verification import identity_hash, source_issue_identity_secret

TRACK_API_KEY = "trk-canary-5ecret-d0-not-show"
PAYLOAD_CANARY = "payload-canary-value-7f3a"


@pytest.fixture
def busy(workspace, emulator, api, browser_source, admin_user, monkeypatch):
    """Ingest, identity verification, forwarding, an erasure and errors, every logger at DEBUG."""
    from forwarding.tests.conftest import API_KEY

    workspace.track_api_key = API_KEY  # the emulator's key: it must not show either
    workspace.save()
    secret = source_issue_identity_secret(source=browser_source)
    browser_source.require_identity_verification = True
    browser_source.save()
    user_hash = identity_hash(secret=secret, value="u-1")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))  # tracebacks included
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    browser = APIClient()
    browser.credentials(HTTP_AUTHORIZATION=basic_auth(BROWSER_KEY))
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {SERVER_KEY}")
    assert browser.post(
        "/v1/identify",
        {"userId": "u-1", "anonymousId": "a-1", "traits": {"email": "ada@example.com", "note": PAYLOAD_CANARY},
         "context": {"seam": {"user_hash": user_hash}}},
        format="json",
    ).status_code == 200  # fmt: skip
    for client in (api, bearer):
        body = {"userId": "u-1", "event": "order_completed", "properties": {"order_id": PAYLOAD_CANARY}}
        assert client.post("/v1/track", body, format="json").status_code == 200
    Client().post("/v1/track", {"writeKey": SERVER_KEY, "event": "x", "userId": "u"}, content_type="text/plain")
    api.post("/v1/batch", {"batch": [{"type": "track", "properties": {"x": PAYLOAD_CANARY}}]}, format="json")
    api.post("/v1/track", b"{not json " + PAYLOAD_CANARY.encode(), content_type="application/json")
    Client().post("/v1/track", {"event": "x"}, headers={"Authorization": basic_auth(SERVER_KEY + "x")})
    with monkeypatch.context() as patch:  # a bug in the write path: logged with its traceback, as a 500
        patch.setattr("events.api.views.event_store_grouped", _broken)
        assert api.post("/v1/track", body, format="json").status_code == 500
    emulator.faults(error_rate=1.0, error_statuses=[500], seed=1)
    deliveries_send(workspace=workspace, time_budget=2)
    emulator.faults()
    Delivery.objects.update(next_attempt_at=timezone.now())  # retry the failed ones now
    for _ in range(5):
        deliveries_send(workspace=workspace, time_budget=3)
    assert Delivery.objects.filter(state="delivered").exists()
    staff = Client()
    staff.force_login(admin_user)
    assert staff.post("/api/people/a-1/suppress").status_code == 200
    root.removeHandler(handler)
    root.setLevel(level)
    return {"secrets": [SERVER_KEY, API_KEY, secret, user_hash], "staff": staff, "log": log.getvalue()}


def _broken(**kwargs):
    raise RuntimeError("the store broke")


def test_no_secret_and_no_payload_is_ever_logged(busy):
    text = busy["log"]
    assert "Traceback" in text and 'PUT /api/v1/customers/u-1 HTTP/1.1" 500' in text  # it did log
    for secret in busy["secrets"]:
        assert secret not in text
    assert PAYLOAD_CANARY not in text
    assert "ada@example.com" not in text


def test_no_secret_is_rendered_on_any_admin_or_dashboard_page(busy, workspace):
    staff, pages = busy["staff"], []
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        try:
            pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        except NoReverseMatch:
            continue
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    pages += [f"/dashboards/{workspace.pk}/{name}/" for name in ("health", "deliveries", "audit", "sources")]
    pages += ["/api/schema/", f"/v1/projects/{BROWSER_KEY}/settings", "/api/people/?q=u-1"]
    rendered = 0
    for page in pages:
        response = staff.get(page)
        assert response.status_code in (200, 302, 403, 404), (page, response.status_code)
        content = response.content.decode(errors="replace")
        for secret in busy["secrets"]:
            assert secret not in content, page
        rendered += response.status_code == 200
    assert rendered >= 20


def test_a_server_key_is_never_echoed_by_the_sdk_settings_route(client, server_source):
    response = client.get(f"/v1/projects/{SERVER_KEY}/settings")
    assert response.status_code == 404
    assert SERVER_KEY not in response.content.decode()


@pytest.mark.parametrize("auth", [basic_auth(SERVER_KEY), f"Bearer {SERVER_KEY}", basic_auth(BROWSER_KEY)])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/people/?q=u-1"),
        ("get", "/api/people/1/"),
        ("get", "/api/people/1/timeline/"),
        ("post", "/api/people/u-1/delete"),
        ("get", "/dashboards/"),
        ("get", "/admin/events/event/"),
        ("get", "/v1/track"),
        ("get", "/api/schema/?format=json&q=u-1"),
    ],
)
def test_a_write_key_reads_nothing(api, browser_source, auth, method, path):
    body = {"userId": "u-1", "event": "order_completed", "properties": {"x": PAYLOAD_CANARY}}
    assert api.post("/v1/track", body, format="json").status_code == 200
    client = Client()
    response = getattr(client, method)(path, headers={"Authorization": auth})
    content = response.content.decode(errors="replace")
    assert PAYLOAD_CANARY not in content and "order_completed" not in content
    if path.startswith("/api/schema/"):
        assert response.status_code == 200  # public: the contract, no data
    else:
        assert response.status_code in (302, 401, 403, 405), (path, response.status_code)
    assert Event.objects.count() == 1
