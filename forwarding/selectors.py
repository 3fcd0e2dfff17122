"""Reads for forwarding."""

from django.utils import timezone

from forwarding.models import Delivery


def workspaces_with_due_deliveries() -> list[int]:
    """Workspaces (not paused) with a pending delivery whose time has come."""
    return list(
        Delivery.objects.filter(
            state=Delivery.State.PENDING, next_attempt_at__lte=timezone.now(), workspace__forwarding_paused=False
        )
        .values_list("workspace_id", flat=True)
        .distinct()
    )
