import json

import pytest
from django.core.management import CommandError, call_command

from workspaces.models import Source, Workspace
from workspaces.selectors import source_get_by_write_key


def create_source(*args: str) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("create_source", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_it_creates_the_workspace_and_a_source_and_prints_its_key():
    printed = create_source(
        "--workspace", "Shop", "--kind", "server", "--environment", "staging", "--track-url", "http://127.0.0.1:8025"
    )
    assert {"workspace", "source", "write_key"} <= set(printed)
    assert printed["workspace"] == "Shop" and printed["workspace_created"] is True
    assert printed["write_key"].startswith("sk_")
    workspace = Workspace.objects.get(name="Shop")
    assert workspace.environment == "staging"
    assert workspace.effective_track_url == "http://127.0.0.1:8025"
    assert source_get_by_write_key(printed["write_key"]).name == printed["source"]


@pytest.mark.django_db
def test_it_reuses_an_existing_workspace():
    first = create_source("--workspace", "Shop", "--kind", "browser", "--allowed-origin", "https://shop.example")
    second = create_source("--workspace", "Shop", "--kind", "server")
    assert second["workspace_created"] is False
    assert Workspace.objects.count() == 1
    assert first["write_key"].startswith("pk_") and first["write_key"] != second["write_key"]
    assert Source.objects.get(kind="browser").origins == ["https://shop.example"]


@pytest.mark.django_db
def test_it_refuses_a_duplicate_source_name():
    create_source("--workspace", "Shop", "--kind", "server", "--name", "backend")
    with pytest.raises(CommandError, match="already has a source named"):
        create_source("--workspace", "Shop", "--kind", "server", "--name", "backend")


@pytest.mark.django_db
def test_only_a_digest_of_a_server_key_is_stored():
    printed = create_source("--workspace", "Shop", "--kind", "server")
    source = Source.objects.get()
    assert printed["write_key"] not in (source.write_key_hash, source.public_write_key)
    assert source.public_write_key == ""
    assert source.write_key_hint == printed["write_key"][:7]
