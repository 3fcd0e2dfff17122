import pytest
from django.test import Client

from conftest import BROWSER_KEY, SERVER_KEY, basic_auth
from events.models import Event
from workspaces.services import source_issue_key, source_revoke_key

TRACK = {"userId": "u-1", "event": "product_viewed", "messageId": "m-1"}


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    "auth",
    [
        {"Authorization": basic_auth(SERVER_KEY)},
        {"Authorization": f"Bearer {SERVER_KEY}"},
        {"Authorization": f"bearer   {SERVER_KEY}  "},
    ],
)
def test_it_accepts_the_write_key_in_a_header(client, server_source, auth):
    response = post(client, "/v1/track", TRACK, **auth)
    assert response.status_code == 200, response.content
    assert response.json() == {}
    assert Event.objects.get().source == server_source


def test_it_accepts_the_write_key_in_the_body(client, browser_source):
    response = post(client, "/v1/t", {**TRACK, "writeKey": BROWSER_KEY})
    assert response.status_code == 200
    assert Event.objects.get().source == browser_source


def test_it_accepts_the_write_key_in_a_batch_body(client, browser_source):
    response = post(client, "/v1/b", {"batch": [{**TRACK, "type": "track"}], "writeKey": BROWSER_KEY})
    assert response.status_code == 200
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    "headers,body",
    [
        ({}, TRACK),
        ({"Authorization": basic_auth("sk_nobody")}, TRACK),
        ({"Authorization": "Bearer sk_nobody"}, TRACK),
        ({}, {**TRACK, "writeKey": "pk_nobody"}),
        ({}, {**TRACK, "writeKey": 12}),
        ({"Authorization": "Basic !!!not-base64"}, TRACK),
        ({"Authorization": "Digest abc"}, TRACK),
        ({"Authorization": "Bearer"}, TRACK),
    ],
)
def test_it_refuses_missing_unknown_or_malformed_keys(client, server_source, headers, body):
    response = post(client, "/v1/track", body, **headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.json()["message"]
    assert Event.objects.count() == 0


def test_it_checks_a_header_key_before_reading_the_body(client, server_source):
    response = client.post(
        "/v1/track", b"{not json", content_type="application/json", headers={"Authorization": "Bearer sk_nobody"}
    )
    assert response.status_code == 401


def test_a_revoked_key_stops_working_at_once(client, server_source):
    assert post(client, "/v1/track", TRACK, Authorization=f"Bearer {SERVER_KEY}").status_code == 200
    source_revoke_key(source=server_source)
    response = post(client, "/v1/track", {**TRACK, "messageId": "m-2"}, Authorization=f"Bearer {SERVER_KEY}")
    assert response.status_code == 401


def test_a_regenerated_key_replaces_the_old_one(client, server_source):
    new_key = source_issue_key(source=server_source)
    assert post(client, "/v1/track", TRACK, Authorization=f"Bearer {SERVER_KEY}").status_code == 401
    assert post(client, "/v1/track", TRACK, Authorization=f"Bearer {new_key}").status_code == 200


def test_a_disabled_source_cannot_write(client, server_source):
    server_source.enabled = False
    server_source.save()
    assert post(client, "/v1/track", TRACK, Authorization=f"Bearer {SERVER_KEY}").status_code == 401


def test_a_write_key_reads_nothing(client, server_source):
    auth = {"Authorization": f"Bearer {SERVER_KEY}"}
    for path in ["/v1/track", "/v1/batch", "/admin/", "/admin/events/event/"]:
        response = client.get(path, headers=auth)
        assert response.status_code in (302, 401, 403, 405), path
        assert b"product_viewed" not in response.content
