"""Writes for the data-sanity segments: the periodic snapshot that makes each segment a time series."""

import logging
from datetime import datetime

from django.utils import timezone

from segments.definitions import SEGMENTS, SHRINK_COMPARED_WITH, Expectation, segment_is_breached
from segments.models import SegmentSnapshot
from segments.selectors import segment_count_before, segment_settings_for, segment_threshold, segments_count_all
from workspaces.models import Workspace

logger = logging.getLogger(__name__)


def segments_snapshot(*, workspace: Workspace, now: datetime | None = None) -> list[SegmentSnapshot]:
    """Count every segment and keep the counts, each marked breached when it breaks its expectation.

    A should-shrink segment is compared with its latest snapshot a day or more before.
    """
    now = now or timezone.now()
    settings = segment_settings_for(workspace=workspace)
    counts = segments_count_all(workspace=workspace, now=now, settings=settings)
    snapshots = []
    for key, segment in SEGMENTS.items():
        threshold = segment_threshold(segment=segment, settings=settings)
        earlier = None
        if segment.expectation == Expectation.SHOULD_SHRINK:
            earlier = segment_count_before(workspace=workspace, key=key, moment=now - SHRINK_COMPARED_WITH)
        breached = segment_is_breached(segment=segment, count=counts[key], threshold=threshold, earlier=earlier)
        snapshots.append(
            SegmentSnapshot(
                workspace=workspace,
                segment=key,
                count=counts[key],
                taken_at=now,
                expectation=segment.expectation,
                threshold=threshold,
                breached=breached,
            )
        )
        if breached:
            logger.warning("segment %s of %s is breached: %d (%s)", key, workspace, counts[key], segment.expectation)
    return SegmentSnapshot.objects.bulk_create(snapshots)
