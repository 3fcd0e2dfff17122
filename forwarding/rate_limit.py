"""A per-workspace token bucket shared by every worker: Redis when configured, else the database.

Customer.io's documented budget is 100 requests/s per workspace, "not strictly enforced"; we hold
it ourselves so that a backlog drains at full speed without earning 429s.
"""

import logging
import time
from functools import cache

import redis
from django.conf import settings
from django.db import transaction

from forwarding.models import RateBucket
from lib.token_bucket import TAKE_SCRIPT
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

# Bursts of a tenth of a second's budget keep any one-second window near the limit.
BURST_FRACTION = 0.1


def rate_limit_take(*, workspace: Workspace, max_wait: float = 30.0) -> bool:
    """Wait for one request's token; False if none came within `max_wait` seconds."""
    rate = max(1, workspace.rate_limit_per_second)
    capacity = max(1.0, rate * BURST_FRACTION)
    deadline = time.monotonic() + max_wait
    while True:
        wait = _take(workspace, rate, capacity)
        if wait <= 0:
            return True
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)


def _take(workspace: Workspace, rate: float, capacity: float) -> float:
    if settings.REDIS_URL:
        try:
            return float(_script()(keys=[f"seam:ratelimit:{workspace.pk}"], args=[rate, capacity]))
        except redis.RedisError:
            logger.warning("Redis unavailable for the rate limit; using the database bucket")
    return _take_from_database(workspace, rate, capacity)


@cache
def _script():
    return redis.Redis.from_url(settings.REDIS_URL).register_script(TAKE_SCRIPT)


def _take_from_database(workspace: Workspace, rate: float, capacity: float) -> float:
    """The same bucket as a row; the write lock (FOR UPDATE, or SQLite's IMMEDIATE) serializes takers."""
    with transaction.atomic():
        now = time.time()
        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            workspace=workspace, defaults={"tokens": capacity, "updated": now}
        )
        tokens = min(capacity, bucket.tokens + max(0.0, now - bucket.updated) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        bucket.tokens, bucket.updated = tokens, now
        bucket.save(update_fields=["tokens", "updated"])
        return wait
