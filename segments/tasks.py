"""Celery entry points for segments: load by id, call a service, nothing else."""

from celery import shared_task

from segments.services import segments_snapshot
from workspaces.models import Workspace


@shared_task(ignore_result=True)
def segments_snapshot_task() -> None:
    """Beat: snapshot every workspace's segments (one task per workspace, so one slow workspace delays no other)."""
    for workspace_id in Workspace.objects.values_list("pk", flat=True):
        segments_snapshot_workspace_task.delay(workspace_id)


@shared_task(ignore_result=True)
def segments_snapshot_workspace_task(workspace_id: int) -> None:
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is not None:
        segments_snapshot(workspace=workspace)
