"""Celery entry points for tracking: call a service, nothing else."""

import logging

from celery import shared_task

from tracking.services import orders_release_unconfirmed

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def orders_release_unconfirmed_task() -> None:
    """Beat: forward browser orders whose server confirmation never came within the window."""
    released = orders_release_unconfirmed()
    if released:
        logger.info("forwarded %d browser orders no server confirmed", released)
