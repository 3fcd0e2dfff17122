"""Every custom Django admin action is audited with its actor, as the dashboards' own actions are.

Carol (the admin role, staff, not a superuser) acts through the real admin changelist; the audit entry
names her, the workspace and the source or deliveries, and never a key or secret.
"""

import json

import pytest
from django.contrib import admin

from dashboards.models import AuditEntry
from dashboards.tests.conftest import track
from forwarding.models import Delivery
from workspaces.models import Source

# Every custom action registered in the admin, and the audit entry it must leave.
AUDITED_ACTIONS = {
    ("forwarding", "delivery", "replay"): AuditEntry.Action.REPLAY,
    ("workspaces", "source", "regenerate_keys"): AuditEntry.Action.KEY_ISSUED,
    ("workspaces", "source", "revoke_keys"): AuditEntry.Action.KEY_REVOKED,
    ("workspaces", "source", "issue_identity_secrets"): AuditEntry.Action.IDENTITY_SECRET_ISSUED,
}


def entry_text(entry: AuditEntry) -> str:
    return entry.target + json.dumps(entry.details)


def test_every_custom_admin_action_is_in_the_audited_list():
    registered = set()
    for model, model_admin in admin.site._registry.items():
        for action in model_admin.actions or ():
            name = action if isinstance(action, str) else action.__name__
            registered.add((model._meta.app_label, model._meta.model_name, name))
    assert registered == set(AUDITED_ACTIONS)


@pytest.mark.parametrize("action", ["regenerate_keys", "revoke_keys", "issue_identity_secrets"])
def test_it_audits_a_source_admin_action_with_its_actor(as_user, personas, workspace, browser_source, action):
    response = as_user("carol").post(
        "/admin/workspaces/source/", {"action": action, "_selected_action": [browser_source.pk]}, follow=True
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get()
    assert entry.action == AUDITED_ACTIONS[("workspaces", "source", action)]
    assert (entry.actor, entry.actor_username, entry.workspace) == (personas["carol"], "carol", workspace)
    assert entry.details["source"] == browser_source.pk and entry.details["via"] == "admin"
    browser_source.refresh_from_db()
    for secret in (browser_source.public_write_key, browser_source.identity_secret, "pk_test_browser_key"):
        assert not secret or secret not in entry_text(entry)


def test_it_never_puts_a_regenerated_server_key_in_the_audit(as_user, workspace, server_source):
    response = as_user("carol").post(
        "/admin/workspaces/source/", {"action": "regenerate_keys", "_selected_action": [server_source.pk]}, follow=True
    )
    shown = next(str(m) for m in response.context["messages"] if "New write key" in str(m))
    key = shown.split(": ")[1].split(" ")[0]
    assert key.startswith("sk_")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.KEY_ISSUED)
    assert key not in entry_text(entry) and "sk_test_server_key" not in entry_text(entry)


def test_it_audits_adding_a_source_in_the_admin(as_user, personas, workspace):
    response = as_user("carol").post(
        "/admin/workspaces/source/add/",
        {"workspace": workspace.pk, "name": "api", "kind": "server", "enabled": "on", "allowed_origins": ""},
        follow=True,
    )
    shown = next(str(m) for m in response.context["messages"] if "Write key" in str(m))
    key = shown.split(": ")[1].split(" ")[0]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.KEY_ISSUED)
    assert (entry.actor, entry.workspace) == (personas["carol"], workspace)
    assert entry.details["source"] == Source.objects.get(name="api").pk
    assert key not in entry_text(entry)


def test_it_audits_an_admin_replay_with_its_actor(as_user, personas, shop, workspace):
    shop.send(
        *[
            track("order_completed", "2024-05-01T10:00:00Z", userId=f"u-{i}", properties={"order_id": f"o-{i}"})
            for i in range(2)
        ]
    )
    dead = sorted(Delivery.objects.filter(event__name="order_completed").values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=dead).update(state="dead", attempts=12)
    response = as_user("carol").post(
        "/admin/forwarding/delivery/", {"action": "replay", "_selected_action": dead}, follow=True
    )
    assert "2 deliveries queued to be sent again." in response.content.decode()
    entry = AuditEntry.objects.get()
    assert entry.action == AUDITED_ACTIONS[("forwarding", "delivery", "replay")]
    assert (entry.actor, entry.actor_username, entry.workspace) == (personas["carol"], "carol", workspace)
    assert entry.details == {"delivery_ids": dead, "replayed": 2, "via": "admin"}
    assert not Delivery.objects.filter(pk__in=dead, state="dead").exists()


def test_a_replay_that_replays_nothing_leaves_no_entry(as_user, shop, workspace):
    shop.send(track("order_completed", "2024-05-01T10:00:00Z", userId="u-1", properties={"order_id": "o-1"}))
    pending = list(Delivery.objects.values_list("pk", flat=True))
    as_user("carol").post("/admin/forwarding/delivery/", {"action": "replay", "_selected_action": pending})
    assert not AuditEntry.objects.exists()
