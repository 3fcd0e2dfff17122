from django.db import models
from django.db.models import Q

from workspaces.models import Workspace

DEFAULT_TEST_EMAIL_PATTERNS = "@example.com\n@example.org\n@example.net\n+test"
DEFAULT_NON_PRODUCTION_ENVIRONMENTS = "staging\ndevelopment\ndev\ntest\nqa\nsandbox"


class SegmentSettings(models.Model):
    """A workspace's settings for the data-sanity segments; a workspace without a row uses the defaults."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="segment_settings")
    test_email_patterns = models.TextField(
        default=DEFAULT_TEST_EMAIL_PATTERNS,
        blank=True,
        help_text="S8: one per line; an email containing one (case-insensitively) is test traffic",
    )
    non_production_hostnames = models.TextField(
        blank=True,
        help_text="S8: one hostname per line (e.g. localhost, staging.shop.example); a page on it or on one of "
        "its subdomains is test traffic",
    )
    non_production_environments = models.TextField(
        default=DEFAULT_NON_PRODUCTION_ENVIRONMENTS,
        blank=True,
        help_text="S8: values of context.environment that mark an event as not production, one per line",
    )
    max_anonymous_ids = models.PositiveIntegerField(
        default=10, help_text="S10: a person with more anonymous ids than this is unusual"
    )
    thresholds = models.JSONField(
        default=dict, blank=True, help_text='breach thresholds by segment, overriding the defaults, e.g. {"S2": 5}'
    )

    class Meta:
        verbose_name_plural = "segment settings"

    def __str__(self) -> str:
        return f"segment settings of {self.workspace}"


class SegmentSnapshot(models.Model):
    """A segment's count at one moment (taken by Celery beat): its time series, and a breach when it broke."""

    # No index of its own: snapshot_ws_segment_taken_idx leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="segment_snapshots", db_index=False)
    segment = models.CharField(max_length=3, help_text="S1 … S10")
    count = models.PositiveIntegerField()
    taken_at = models.DateTimeField()
    expectation = models.CharField(max_length=14)
    threshold = models.PositiveIntegerField(null=True, blank=True, help_text="the breach threshold applied")
    breached = models.BooleanField(default=False)

    class Meta:
        ordering = ["-taken_at", "segment"]
        indexes = [
            models.Index(fields=["workspace", "segment", "taken_at"], name="snapshot_ws_segment_taken_idx"),
            models.Index(fields=["workspace", "taken_at"], condition=Q(breached=True), name="snapshot_ws_breached_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.segment} = {self.count} at {self.taken_at:%Y-%m-%d %H:%M}" + (
            " (breached)" if self.breached else ""
        )
