"""Ingest rate limits: a token bucket per client IP and one per write key, answered with 429 + Retry-After.

The IP bucket is checked before anything else (a flood of bad keys costs one Redis round trip per
request); the key bucket once the source is known. Redis holds the buckets when REDIS_URL is set,
so every web process shares them; without Redis each process keeps its own (the embedded default
serves one machine). If Redis cannot answer, the limit fails open — ingest must not go down with
its limiter — and each such request is counted and logged (at most every LOG_EVERY_SECONDS).
"""

import logging
import math
import threading
import time
from collections import OrderedDict
from functools import cache

import redis
from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import Throttled

from lib.token_bucket import TAKE_SCRIPT

logger = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 10
# Redis must answer a limit check fast or be skipped: a slow limiter would be an outage of its own.
REDIS_TIMEOUT_SECONDS = 0.25
LOCAL_BUCKETS_MAX = 50_000


class FailOpenCounter:
    """Requests let through because the limiter's Redis did not answer, since this process started."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self._last_log = 0.0

    def add(self, error: Exception) -> None:
        with self._lock:
            self.count += 1
            now = time.monotonic()
            if now - self._last_log < LOG_EVERY_SECONDS:
                return
            self._last_log = now
            count = self.count
        logger.warning(
            "ingest rate limit failing open (Redis: %s); %d request(s) unchecked", type(error).__name__, count
        )


fail_open = FailOpenCounter()


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the entry SEAM_TRUSTED_PROXY_COUNT proxies in from the right
    of X-Forwarded-For (entries further left are whatever the client wrote, so never trusted)."""
    proxies = settings.SEAM_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]


def throttle_ip(ip: str) -> None:
    """Raise 429 when this client IP has used its budget."""
    _check("ip", ip, settings.SEAM_INGEST_RATE_PER_IP, settings.SEAM_INGEST_BURST_PER_IP, "this client address")


def throttle_source(source_id: int) -> None:
    """Raise 429 when this write key (its source) has used its budget."""
    _check(
        "key", str(source_id), settings.SEAM_INGEST_RATE_PER_KEY, settings.SEAM_INGEST_BURST_PER_KEY, "this write key"
    )


def _check(scope: str, ident: str, rate: float, burst: float, who: str) -> None:
    if rate <= 0:
        return  # this limit is off
    capacity = max(1.0, float(burst or rate))
    wait = _take(f"seam:ingest:{scope}:{ident}", float(rate), capacity)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise Throttled(wait=seconds, detail=f"too many requests from {who}; retry after {seconds} s")


def _take(key: str, rate: float, capacity: float) -> float:
    if settings.REDIS_URL:
        try:
            return float(_script()(keys=[key], args=[rate, capacity]))
        except redis.RedisError as error:
            fail_open.add(error)
            return 0.0
    return _local.take(key, rate, capacity)


@cache
def _script():
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
    )
    return client.register_script(TAKE_SCRIPT)


class _LocalBuckets:
    """The same buckets in this process's memory, for the embedded setup without Redis."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, rate: float, capacity: float) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, updated = self._buckets.pop(key, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - updated) * rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > LOCAL_BUCKETS_MAX:
                self._buckets.popitem(last=False)
            return wait

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


_local = _LocalBuckets()
