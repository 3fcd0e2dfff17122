"""seed_demo's traffic: every dashboard panel gets something true to show, and a second run adds nothing."""

import pytest
from django.core.management import call_command

from dashboards.models import DailyHealth, WorkspaceHealth
from dashboards.selectors import health_overview
from demo.keys import DEMO_WORKSPACE
from demo.traffic import STAGING_WORKSPACE
from events.models import Event, RejectedMessage
from forwarding.models import Delivery
from identities.models import Identity, IdentityWarning, Merge
from identities.selectors import duplicates_find
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True  # seed_demo refuses to run without it
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Workspace.objects.get(name=DEMO_WORKSPACE)


def test_it_gives_every_panel_something_to_show(seeded):
    workspace = seeded
    assert Event.objects.filter(workspace=workspace).count() > 1500
    assert Merge.objects.filter(workspace=workspace, reason="identify").count() >= 10
    groups = duplicates_find(workspace=workspace)
    assert {group.kind for group in groups} == {"email", "anonymous_id"} and len(groups) >= 4
    assert RejectedMessage.objects.filter(workspace=workspace).count() == 5
    assert Delivery.objects.filter(workspace=workspace, state="dead", event__user_id="u-1600").count() >= 2
    assert Delivery.objects.filter(workspace=workspace, state="failed").exists()  # the URL as an event name
    kinds = set(IdentityWarning.objects.filter(workspace=workspace).values_list("kind", flat=True))
    assert {"shared_device", "illegal_id"} <= kinds
    # First sight spread over the month, so the merge rate has a trend to draw.
    days = {at.date() for at in Identity.objects.filter(workspace=workspace, kind="anonymous_id").values_list(
        "created_at", flat=True)}  # fmt: skip
    assert len(days) >= 25
    overview = health_overview(workspace=workspace)
    values = {metric.key: metric.value for metric in overview.metrics}
    assert 20 < values["merge_rate"] < 95 and 20 < values["identified_share"] < 95
    assert values["unresolved"] > 100 and values["duplicates"] >= 4
    assert WorkspaceHealth.objects.filter(workspace=workspace).exists()
    assert DailyHealth.objects.filter(workspace=workspace, events__gt=0).count() >= 28
    assert Workspace.objects.get(name=STAGING_WORKSPACE).environment == "staging"


def test_it_is_idempotent(seeded):
    events = Event.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Event.objects.count() == events
    assert RejectedMessage.objects.filter(workspace=seeded).count() == 5
