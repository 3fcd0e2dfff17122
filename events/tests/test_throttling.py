"""Ingest rate limits: per client address and per write key, 429 + Retry-After as {code, message}."""

import json
import uuid

import pytest
from django.test import Client

from conftest import BROWSER_KEY, SERVER_KEY
from events.api import throttling
from events.models import Event

TRACK = {"userId": "u-1", "event": "product_viewed"}


@pytest.fixture
def limits(settings):
    """Small limits, buckets of our own: a fresh client address per test, no state left behind."""
    throttling._local.clear()
    settings.SEAM_INGEST_RATE_PER_IP = 1
    settings.SEAM_INGEST_BURST_PER_IP = 3
    settings.SEAM_INGEST_RATE_PER_KEY = 0
    return settings


def address() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"


def send(client: Client, ip: str, key: str = SERVER_KEY, **message):
    return client.post(
        "/v1/track",
        {**TRACK, **message},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
        REMOTE_ADDR=ip,
    )


def test_it_answers_429_with_retry_after_once_an_address_spent_its_burst(client, server_source, limits):
    ip = address()
    assert [send(client, ip).status_code for _ in range(3)] == [200, 200, 200]
    response = send(client, ip)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "retry after" in response.json()["message"]
    assert int(response["Retry-After"]) >= 1
    assert Event.objects.count() == 3
    assert send(client, address()).status_code == 200  # another client is not held back


def test_the_address_limit_counts_requests_with_bad_keys_too(client, server_source, limits):
    ip = address()
    assert [send(client, ip, key="sk_guess").status_code for _ in range(3)] == [401, 401, 401]
    assert send(client, ip).status_code == 429


def test_it_limits_each_write_key_on_its_own(client, server_source, browser_source, limits):
    limits.SEAM_INGEST_RATE_PER_IP = 0
    limits.SEAM_INGEST_RATE_PER_KEY = 1
    limits.SEAM_INGEST_BURST_PER_KEY = 2
    assert [send(client, address()).status_code for _ in range(3)] == [200, 200, 429]
    # A key in the body (the browser SDK's way) has a bucket of its own.
    response = client.post("/v1/t", json.dumps({**TRACK, "writeKey": BROWSER_KEY}), content_type="text/plain")
    assert response.status_code == 200


def test_the_sdk_settings_route_is_limited_like_ingest(client, browser_source, limits):
    ip = address()
    codes = [client.get(f"/v1/projects/pk_guess{n}/settings", REMOTE_ADDR=ip).status_code for n in range(4)]
    assert codes == [404, 404, 404, 429]


def test_it_trusts_forwarded_for_only_behind_configured_proxies(rf, settings):
    request = rf.post("/v1/track", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.SEAM_TRUSTED_PROXY_COUNT = 0
    assert throttling.client_ip(request) == "10.0.0.1"
    settings.SEAM_TRUSTED_PROXY_COUNT = 1
    assert throttling.client_ip(request) == "203.0.113.7"  # the spoofable left entry is never used


def test_it_fails_open_and_counts_when_redis_is_down(client, server_source, limits, monkeypatch, caplog):
    limits.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    throttling._script.cache_clear()
    monkeypatch.setattr(throttling.fail_open, "_last_log", 0.0)
    before = throttling.fail_open.count
    try:
        ip = address()
        assert [send(client, ip).status_code for _ in range(5)] == [200] * 5
    finally:
        throttling._script.cache_clear()
    assert throttling.fail_open.count == before + 5
    assert "failing open" in caplog.text
