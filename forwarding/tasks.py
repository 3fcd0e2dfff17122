"""Celery entry points for forwarding: load by id, call a service, nothing else."""

import logging
import time

from celery import shared_task
from django.core.cache import cache

from forwarding.selectors import workspaces_with_due_deliveries
from forwarding.services import deliveries_release_stuck, deliveries_send
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

# At most one nudge per workspace in this window: under load, one sending task drains many requests.
NUDGE_DEBOUNCE_SECONDS = 1

# When each workspace's current nudge window ends (time.time()), as far as this process knows. Inside it the
# cache would refuse a nudge anyway, so the process does not ask: under load every group commit of ingest
# nudges, and asking was 7% of a single message's CPU (bench/ANALYSIS.md). One entry per workspace.
_window_ends: dict[int, float] = {}


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
    """Enqueue a send for the workspace, at most once per window across processes; a broker or cache outage is
    logged, never raised to the caller."""
    now = time.time()
    if _window_ends.get(workspace_id, 0.0) > now:
        return
    key = f"seam:forwarding:nudge:{workspace_id}"
    try:
        # The window's end is the cached value: a process that finds another's window learns when to ask again.
        if cache.add(key, now + NUDGE_DEBOUNCE_SECONDS, timeout=NUDGE_DEBOUNCE_SECONDS):
            _window_ends[workspace_id] = now + NUDGE_DEBOUNCE_SECONDS
            deliveries_send_task.delay(workspace_id)
        else:
            _window_ends[workspace_id] = min(float(cache.get(key) or 0.0), now + NUDGE_DEBOUNCE_SECONDS)
    except Exception:  # the beat sweep covers a lost nudge; ingest must not fail after committing
        logger.warning("could not enqueue a forwarding nudge for workspace %s", workspace_id, exc_info=True)
