"""The data migration gives existing workspaces the default plan, and leaves an existing plan alone."""

import importlib

from django.apps import apps

from tracking.models import PlannedEvent, PropertyAlias, TrackingPlan
from workspaces.services import workspace_ensure

migration = importlib.import_module("tracking.migrations.0002_default_plans")


def test_it_seeds_workspaces_without_a_plan(workspace):
    other, _ = workspace_ensure(name="Other shop")
    TrackingPlan.objects.create(workspace=other, unplanned_events=TrackingPlan.Unplanned.BLOCK)
    migration.seed(apps, None)
    plan = TrackingPlan.objects.get(workspace=workspace)
    assert PlannedEvent.objects.filter(plan=plan).count() == 6
    assert dict(PropertyAlias.objects.filter(plan=plan).values_list("alias", "name"))["productId"] == "product_id"
    untouched = TrackingPlan.objects.get(workspace=other)
    assert untouched.unplanned_events == "block" and not untouched.events.exists()
