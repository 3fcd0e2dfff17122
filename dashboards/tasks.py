"""Celery entry points for the dashboards: call a service, nothing else."""

from celery import shared_task

from dashboards.services import health_rollups_refresh_all


@shared_task(ignore_result=True)
def health_rollups_refresh_task() -> None:
    """Beat: keep every workspace's health rollups fresh (safe to run twice: a recompute, not a sum)."""
    health_rollups_refresh_all()
