"""Identity verification per browser source: an identify must carry the site backend's HMAC of the user id."""

import pytest
from rest_framework.test import APIClient

from conftest import BROWSER_KEY, basic_auth
from events.models import Event
from forwarding.models import Delivery
from identities.models import Identity, IdentityWarning, Merge
from identities.selectors import person_get_by_any_identifier
from workspaces.identity_verification import identity_hash, source_issue_identity_secret


@pytest.fixture
def secret(browser_source) -> str:
    secret = source_issue_identity_secret(source=browser_source)
    browser_source.require_identity_verification = True
    browser_source.save()
    return secret


@pytest.fixture
def browser(browser_source) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=basic_auth(BROWSER_KEY))
    return client


def send(client, path: str, **message) -> None:
    response = client.post(path, message, format="json")
    assert response.status_code == 200, response.content


def seam_context(user_hash: str) -> dict:
    return {"seam": {"user_hash": user_hash}, "locale": "en"}


def test_a_verified_identify_merges_and_sets_traits(browser, secret, workspace):
    send(browser, "/v1/track", anonymousId="a-1", event="added_to_cart")
    send(
        browser,
        "/v1/identify",
        userId="u-1",
        anonymousId="a-1",
        traits={"name": "Ada"},
        context=seam_context(identity_hash(secret=secret, value="u-1")),
    )
    person = person_get_by_any_identifier(workspace=workspace, value="u-1")
    assert person == person_get_by_any_identifier(workspace=workspace, value="a-1")
    assert person.traits == {"name": "Ada"}
    assert not IdentityWarning.objects.filter(kind=IdentityWarning.Kind.UNVERIFIED_IDENTITY).exists()
    identify = Event.objects.get(type="identify")
    assert "user_hash" not in str(identify.context) and identify.context == {"locale": "en"}  # never stored


@pytest.mark.parametrize("user_hash", [None, "", "0" * 64, "forged"], ids=["absent", "empty", "zeros", "forged"])
def test_an_unverified_identify_is_stored_but_merges_and_changes_nothing(browser, api, secret, workspace, user_hash):
    api.post("/v1/identify", {"userId": "victim", "traits": {"name": "Victim"}}, format="json")  # the real one
    send(browser, "/v1/track", anonymousId="attacker-device", event="added_to_cart")
    context = seam_context(user_hash) if user_hash is not None else {}
    send(
        browser,
        "/v1/identify",
        userId="victim",
        anonymousId="attacker-device",
        traits={"name": "Mallory", "email": "mallory@example.com"},
        context=context,
    )

    stored = Event.objects.get(type="identify", source__kind="browser")
    assert "identity_unverified" in stored.flags
    victim = person_get_by_any_identifier(workspace=workspace, value="victim")
    assert victim.traits == {"name": "Victim"} and victim.email == ""
    assert person_get_by_any_identifier(workspace=workspace, value="attacker-device") != victim
    assert not Identity.objects.filter(value="mallory@example.com").exists()
    assert not Merge.objects.exists()
    warning = IdentityWarning.objects.get(kind=IdentityWarning.Kind.UNVERIFIED_IDENTITY)
    assert warning.event_id == stored.pk and warning.values["user_id"] == "victim"
    # Nothing about the victim goes to Customer.io from it.
    assert not Delivery.objects.filter(event=stored).exists()


def test_a_hash_for_another_user_does_not_verify(browser, secret, workspace):
    send(browser, "/v1/identify", userId="u-2", context=seam_context(identity_hash(secret=secret, value="u-1")))
    assert person_get_by_any_identifier(workspace=workspace, value="u-2") is None


def test_an_email_only_identify_is_verified_by_a_hash_of_the_email(browser, secret, workspace):
    send(browser, "/v1/track", anonymousId="a-1", event="email_captured")
    good = identity_hash(secret=secret, value="ada@example.com")
    send(browser, "/v1/identify", anonymousId="a-1", traits={"email": " Ada@Example.com"}, context=seam_context(good))
    assert person_get_by_any_identifier(workspace=workspace, value="ada@example.com") is not None
    send(browser, "/v1/identify", anonymousId="a-2", traits={"email": "eve@example.com"}, context=seam_context(good))
    assert person_get_by_any_identifier(workspace=workspace, value="eve@example.com") is None


def test_an_unverified_alias_merges_nothing(browser, api, secret, workspace):
    api.post("/v1/identify", {"userId": "victim"}, format="json")
    send(browser, "/v1/track", anonymousId="a-1", event="viewed")
    send(browser, "/v1/alias", previousId="a-1", userId="victim")
    assert person_get_by_any_identifier(workspace=workspace, value="a-1") != person_get_by_any_identifier(
        workspace=workspace, value="victim"
    )
    assert IdentityWarning.objects.filter(kind=IdentityWarning.Kind.UNVERIFIED_IDENTITY).count() == 1


def test_server_sources_and_sources_not_requiring_it_need_no_hash(api, browser, browser_source, workspace):
    source_issue_identity_secret(source=browser_source)  # a secret, but not required yet
    send(browser, "/v1/identify", userId="u-1", anonymousId="a-1")
    send(api, "/v1/identify", userId="u-2", anonymousId="a-2")
    assert person_get_by_any_identifier(workspace=workspace, value="u-1") is not None
    assert person_get_by_any_identifier(workspace=workspace, value="u-2") is not None


def test_a_new_secret_replaces_the_old_one(browser, browser_source, secret, workspace):
    old = identity_hash(secret=secret, value="u-1")
    source_issue_identity_secret(source=browser_source)
    send(browser, "/v1/identify", userId="u-1", context=seam_context(old))
    assert person_get_by_any_identifier(workspace=workspace, value="u-1") is None


def test_the_admin_shows_a_new_secret_once_and_never_again(admin_client, browser_source):
    response = admin_client.post(
        "/admin/workspaces/source/",
        {"action": "issue_identity_secrets", "_selected_action": [browser_source.pk]},
        follow=True,
    )
    browser_source.refresh_from_db()
    secret = browser_source.identity_secret
    assert secret.startswith("isk_") and secret in response.content.decode()
    for page in ("/admin/workspaces/source/", f"/admin/workspaces/source/{browser_source.pk}/change/"):
        assert secret not in admin_client.get(page).content.decode()
