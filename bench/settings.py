"""Benchmark-only settings: Seam's own settings plus the baseline views in bench/urls.py."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# wrk from one address would meet ingest's abuse limits (events/api/throttling.py): the bench measures capacity.
SEAM_INGEST_RATE_PER_IP = 0
SEAM_INGEST_RATE_PER_KEY = 0
