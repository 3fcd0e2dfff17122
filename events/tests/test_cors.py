import orjson

from conftest import BROWSER_KEY
from events.models import Event

SHOP = "https://shop.example"


def test_it_answers_a_preflight_for_any_origin(client):
    response = client.options(
        "/v1/t",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "content-type, authorization"
    assert int(response["Access-Control-Max-Age"]) > 0


def test_responses_carry_the_allow_origin_header(client, browser_source):
    response = client.post(
        "/v1/t",
        orjson.dumps({"anonymousId": "a", "event": "e", "writeKey": BROWSER_KEY}),
        content_type="text/plain",
        headers={"Origin": SHOP},
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in response["Vary"]


def test_errors_carry_it_too_so_the_page_can_read_them(client, browser_source):
    response = client.post("/v1/t", b'{"event": "e"}', content_type="text/plain", headers={"Origin": SHOP})
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == SHOP


def test_a_browser_source_with_allowed_origins_refuses_others(client, browser_source):
    browser_source.allowed_origins = f"{SHOP}\nhttps://checkout.example/"
    browser_source.save()
    body = {"anonymousId": "a", "event": "e", "writeKey": BROWSER_KEY}

    for origin in (SHOP, "https://checkout.example"):
        message = orjson.dumps({**body, "messageId": origin})
        ok = client.post("/v1/t", message, content_type="text/plain", headers={"Origin": origin})
        assert ok.status_code == 200
    refused = client.post(
        "/v1/t", orjson.dumps(body), content_type="text/plain", headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "origin_not_allowed"
    assert Event.objects.count() == 2


def test_cors_is_only_for_the_ingest_api(client):
    response = client.get("/admin/login/", headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in response
