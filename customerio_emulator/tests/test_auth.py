"""Basic auth per workspace: site_id as username, Track API key as password."""

import pytest

from .conftest import OTHER_SITE, SITE


@pytest.mark.parametrize(
    "auth",
    [None, ("demo-site", "wrong-key"), ("unknown-site", "demo-key"), ("demo-key", "demo-site")],
    ids=["missing", "wrong-key", "unknown-site", "swapped"],
)
def test_it_rejects_wrong_credentials(emu, auth):
    response = emu.identify("u1", {"plan": "pro"}, auth=auth)

    assert response.status_code == 401
    assert response.json() == {"meta": {"error": "Unauthorized"}}
    assert emu.people() == []


def test_it_rejects_wrong_credentials_on_v2(emu):
    response = emu.batch(
        [{"type": "person", "action": "identify", "identifiers": {"id": "u1"}}], auth=(OTHER_SITE[0], "x")
    )

    assert response.status_code == 401
    assert emu.people(OTHER_SITE[0]) == []


def test_it_keeps_each_workspace_apart(emu):
    assert emu.identify("u1", {"plan": "pro"}, auth=SITE).status_code == 200
    assert emu.identify("u1", {"plan": "free"}, auth=OTHER_SITE).status_code == 200

    assert emu.person("u1", SITE[0])["attributes"] == {"plan": "pro"}
    assert emu.person("u1", OTHER_SITE[0])["attributes"] == {"plan": "free"}


def test_it_logs_rejected_requests_with_the_claimed_site(emu):
    emu.identify("u1", {}, auth=("demo-site", "wrong-key"))

    (entry,) = emu.requests_log()
    assert entry["status"] == 401
    assert entry["site_id"] == "demo-site"
    assert entry["authenticated"] is False
