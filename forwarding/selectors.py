"""Reads for forwarding."""

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from forwarding.models import Delivery
from lib.literals import text_literal
from workspaces.models import Workspace


def workspaces_with_due_deliveries() -> list[int]:
    """Workspaces (not paused) with a pending delivery whose time has come.

    Asked per workspace, for its first due delivery (a correlated LIMIT 1, which the planner cannot turn
    into a join), not as the distinct workspaces of every due delivery: during a backlog that read every
    pending row at each sweep (200 ms per sweep with 100,000 pending in bench/ANALYSIS.md's P3); an
    EXISTS did too, planned as a semi-join over all of them.
    """
    first_due = Delivery.objects.filter(
        workspace_id=OuterRef("pk"), state=text_literal(Delivery.State.PENDING), next_attempt_at__lte=timezone.now()
    ).values("pk")[:1]
    return list(
        Workspace.objects.filter(forwarding_paused=False)
        .annotate(first_due=Subquery(first_due))
        .filter(first_due__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def delivery_oldest_pending_id(workspace: Workspace) -> int | None:
    """The workspace's oldest pending delivery, read from delivery_pending_idx whatever the statistics say.

    Asked as `workspace = w ORDER BY id`, the planner may walk the primary key from the first row
    instead, past every delivered one: it does whenever an analyze during a drain says most rows are
    pending (bench/ANALYSIS.md: 40-90 ms per claim in the benchmark, growing as the drain went on). A
    range on the workspace ordered by (workspace, id) asks for an order that only that index holds.
    """
    pending = Delivery.objects.filter(
        workspace_id__gte=workspace.pk, workspace_id__lte=workspace.pk, state=text_literal(Delivery.State.PENDING)
    ).order_by("workspace_id", "pk")
    return pending.values_list("pk", flat=True).first()
