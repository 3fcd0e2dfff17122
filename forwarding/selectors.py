"""Reads for forwarding."""

from django.utils import timezone

from forwarding.models import Delivery
from workspaces.models import Workspace


def workspaces_with_due_deliveries() -> list[int]:
    """Workspaces (not paused) with a pending delivery whose time has come."""
    return list(
        Delivery.objects.filter(
            state=Delivery.State.PENDING, next_attempt_at__lte=timezone.now(), workspace__forwarding_paused=False
        )
        .values_list("workspace_id", flat=True)
        .distinct()
    )


def delivery_oldest_pending_id(workspace: Workspace) -> int | None:
    """The workspace's oldest pending delivery, read from delivery_pending_idx whatever the statistics say.

    Asked as `workspace = w ORDER BY id`, the planner may walk the primary key from the first row
    instead, past every delivered one: it does whenever an analyze during a drain says most rows are
    pending (bench/ANALYSIS.md: 40-90 ms per claim in the benchmark, growing as the drain went on). A
    range on the workspace ordered by (workspace, id) asks for an order that only that index holds.
    """
    pending = Delivery.objects.filter(
        workspace_id__gte=workspace.pk, workspace_id__lte=workspace.pk, state=Delivery.State.PENDING
    ).order_by("workspace_id", "pk")
    return pending.values_list("pk", flat=True).first()
