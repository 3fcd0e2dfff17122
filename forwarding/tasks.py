"""Celery entry points for forwarding: load by id, call a service, nothing else."""

import logging

from celery import shared_task
from django.core.cache import cache

from forwarding.selectors import workspaces_with_due_deliveries
from forwarding.services import deliveries_release_stuck, deliveries_send
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

# At most one nudge per workspace in this window: under load, one sending task drains many requests.
NUDGE_DEBOUNCE_SECONDS = 1


@shared_task(acks_late=True, ignore_result=True)
def deliveries_send_task(workspace_id: int) -> None:
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is not None:
        # A backlog bigger than one claim: nudge (debounced) so a second worker sends beside this one.
        deliveries_send(workspace=workspace, on_backlog=lambda: deliveries_nudge_now(workspace_id))


@shared_task(ignore_result=True)
def deliveries_sweep_task() -> None:
    """Beat: free deliveries of dead workers, and start sending wherever something is due.

    This is what makes delivery independent of the broker: a lost nudge only delays it.
    """
    released = deliveries_release_stuck()
    if released:
        logger.warning("released %d deliveries claimed by a worker that stopped", released)
    for workspace_id in workspaces_with_due_deliveries():
        deliveries_send_task.delay(workspace_id)


def deliveries_nudge_now(workspace_id: int) -> None:
    """Enqueue a send for the workspace; a broker outage is logged, never raised to the caller."""
    try:
        if cache.add(f"seam:forwarding:nudge:{workspace_id}", 1, timeout=NUDGE_DEBOUNCE_SECONDS):
            deliveries_send_task.delay(workspace_id)
    except Exception:  # the beat sweep covers a lost nudge; ingest must not fail after committing
        logger.warning("could not enqueue a forwarding nudge for workspace %s", workspace_id, exc_info=True)
