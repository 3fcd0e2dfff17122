"""Give every existing workspace the default D2C tracking plan (new workspaces get it at first ingest)."""

from django.db import migrations
from django.utils import timezone

from tracking.default_plan import default_plan_seed


def seed(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    TrackingPlan = apps.get_model("tracking", "TrackingPlan")
    for workspace in Workspace.objects.filter(tracking_plan__isnull=True):
        plan = TrackingPlan.objects.create(workspace=workspace, updated_at=timezone.now())
        default_plan_seed(
            plan,
            planned_event=apps.get_model("tracking", "PlannedEvent"),
            planned_property=apps.get_model("tracking", "PlannedProperty"),
            property_alias=apps.get_model("tracking", "PropertyAlias"),
        )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
