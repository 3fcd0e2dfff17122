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
from segments.models import SegmentSnapshot
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


# What demo/traffic.py plants for each segment, and the least the latest snapshot must count for it.
SEEDED_SEGMENTS = {
    "S1": 4,  # carts without an email in the last 6 h: the two phones' carts and the two plan-breaking carts
    "S2": 2,  # two phones whose cart stays while the order lands on a customer's profile
    "S3": 4,  # the same four carts, all in the last 2 h with no order of their own
    "S4": 1,  # order-retried-5512, reported twice by the backend
    "S6": 2,  # today's two carts without price and currency
    "S7": 1,  # product_id sent as a number by the iOS build
    "S8": 1,  # qa+test@gmail.com's visit today
    "S9": 1,  # window shoppers' anonymous carts 25 to 30 days old
    "S10": 3,  # Frida on twelve devices, and the two customers of the shared kiosk
}  # S5 is left out: it counts browser-only orders only once the 15-minute confirmation window has passed.


def test_it_gives_the_seeded_segments_non_zero_counts(seeded):
    """Issue 5's "done when": make run's demo shows non-zero counts in the segments its traffic plants."""
    latest = SegmentSnapshot.objects.filter(workspace=seeded).latest("taken_at").taken_at
    counts = dict(SegmentSnapshot.objects.filter(workspace=seeded, taken_at=latest).values_list("segment", "count"))
    assert len(counts) == 10
    short = {key: counts[key] for key, least in SEEDED_SEGMENTS.items() if counts[key] < least}
    assert short == {}, counts


def test_it_is_idempotent(seeded):
    events = Event.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Event.objects.count() == events
    assert RejectedMessage.objects.filter(workspace=seeded).count() == 5
