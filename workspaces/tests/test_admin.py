import pytest
from django.contrib.auth import get_user_model

from workspaces.models import Source, Workspace
from workspaces.selectors import source_get_by_write_key


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("alice", "alice@example.com", "correct horse battery")
    client.force_login(user)
    return client


def test_the_track_api_key_is_never_rendered_back(admin_client, workspace):
    workspace.track_api_key = "super-secret-track-key"
    workspace.save()
    page = admin_client.get(f"/admin/workspaces/workspace/{workspace.pk}/change/")
    assert page.status_code == 200
    assert b"super-secret-track-key" not in page.content
    listing = admin_client.get("/admin/workspaces/workspace/")
    assert b"super-secret-track-key" not in listing.content
    assert "…-key".encode() in listing.content


def test_saving_with_a_blank_key_keeps_the_saved_one(admin_client, workspace):
    workspace.track_api_key = "super-secret-track-key"
    workspace.save()
    form = {
        "name": workspace.name,
        "environment": "production",
        "region": "eu",
        "track_api_url": "",
        "site_id": "site",
        "track_api_key": "",
        "identifier_policy": "id",
        "rate_limit_per_second": "100",
        "sources-TOTAL_FORMS": "0",
        "sources-INITIAL_FORMS": "0",
    }
    response = admin_client.post(f"/admin/workspaces/workspace/{workspace.pk}/change/", form)
    assert response.status_code == 302, response.content
    workspace.refresh_from_db()
    assert workspace.track_api_key == "super-secret-track-key"
    assert workspace.effective_track_url == "https://track-eu.customer.io"


def test_adding_a_source_in_the_admin_shows_its_key_once(admin_client, workspace):
    response = admin_client.post(
        "/admin/workspaces/source/add/",
        {"workspace": workspace.pk, "name": "api", "kind": "server", "enabled": "on", "allowed_origins": ""},
        follow=True,
    )
    assert response.status_code == 200
    shown = next(str(m) for m in response.context["messages"] if "Write key" in str(m))
    key = shown.split(": ")[1].split(" ")[0]
    assert source_get_by_write_key(key) == Source.objects.get(name="api")


def test_the_regenerate_action_replaces_the_key(admin_client, server_source):
    response = admin_client.post(
        "/admin/workspaces/source/",
        {"action": "regenerate_keys", "_selected_action": [server_source.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert source_get_by_write_key("sk_test_server_key") is None


def test_the_revoke_action_revokes(admin_client, server_source):
    admin_client.post("/admin/workspaces/source/", {"action": "revoke_keys", "_selected_action": [server_source.pk]})
    assert source_get_by_write_key("sk_test_server_key") is None
    assert Workspace.objects.count() == 1
