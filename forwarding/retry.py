"""When to try a failed delivery again, and when to give up."""

import random
from datetime import datetime, timedelta

from django.conf import settings

RETRYABLE_STATUSES = {408, 429, 500, 502, 503, 504}


def is_retryable(status: int | None) -> bool:
    """No answer at all (timeout, refused connection), throttling, or a server error."""
    return status is None or status in RETRYABLE_STATUSES or status >= 500


def next_attempt_at(*, now: datetime, attempts: int, retry_after: float | None) -> datetime:
    """Exponential back-off with full jitter, or exactly what Retry-After asks for."""
    if retry_after is not None:
        return now + timedelta(seconds=min(retry_after, settings.SEAM_DELIVERY_MAX_BACKOFF_SECONDS))
    ceiling = min(settings.SEAM_DELIVERY_MAX_BACKOFF_SECONDS, settings.SEAM_DELIVERY_BASE_BACKOFF_SECONDS * 2**attempts)
    return now + timedelta(seconds=random.uniform(0, ceiling))


def is_dead(*, attempts: int, created_at: datetime, now: datetime) -> bool:
    """Dead only after enough attempts *and* long enough: a short outage never kills a delivery."""
    window = timedelta(seconds=settings.SEAM_DELIVERY_DEAD_AFTER_SECONDS)
    return attempts >= settings.SEAM_DELIVERY_MAX_ATTEMPTS and now - created_at >= window
