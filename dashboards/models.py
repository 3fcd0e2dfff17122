"""Rollups the health dashboard reads (kept by a Celery beat task), and the audit log of staff actions."""

from django.conf import settings
from django.db import models

from workspaces.models import Source, Workspace

# Upper bounds (ms) of the ingest → delivery latency histogram; a last, open bucket holds the rest.
LATENCY_BOUNDS_MS = (
    250,
    500,
    1_000,
    2_000,
    5_000,
    10_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
    21_600_000,
    86_400_000,
)


class DailyHealth(models.Model):
    """One workspace-day of the health dashboard's figures, recomputed by the rollup task while recent.

    Events are counted on the day they happened (their corrected timestamp); anonymous ids on the day
    Seam first saw them; deliveries on the day they were written to the outbox.
    """

    # No index of its own: daily_health_unique_day leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)
    identified_events = models.PositiveIntegerField(default=0, help_text="events whose person is identified now")
    anonymous_ids = models.PositiveIntegerField(default=0, help_text="anonymous ids first seen that day")
    anonymous_ids_identified = models.PositiveIntegerField(
        default=0, help_text="of those, the ones attached to an identified person now"
    )
    duplicate_groups = models.PositiveIntegerField(default=0, help_text="duplicate-profile groups at the day's end")
    rejected_messages = models.PositiveIntegerField(default=0)
    deliveries_delivered = models.PositiveIntegerField(default=0)
    deliveries_failed = models.PositiveIntegerField(default=0)
    deliveries_dead = models.PositiveIntegerField(default=0)
    deliveries_dry_run = models.PositiveIntegerField(default=0)
    # Cumulative counts of delivered operations at or under each LATENCY_BOUNDS_MS bound.
    latency_cumulative = models.JSONField(default=list, blank=True)
    # The tracking plan: events it changed, events breaking it, events held back from Customer.io, and
    # {"by_event": {name: n}, "by_property": {"event.property": n}, "by_kind": {...}, "unplanned": {name: n}}.
    events_normalized = models.PositiveIntegerField(default=0)
    events_violating = models.PositiveIntegerField(default=0)
    events_held = models.PositiveIntegerField(default=0)
    violations = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "daily health"
        constraints = [models.UniqueConstraint(fields=["workspace", "day"], name="daily_health_unique_day")]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.day}"


class EventVolume(models.Model):
    """Events of one name, type and source on one day: the volume chart, without scanning events."""

    # No index of its own: event_volume_unique_bucket leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=8)
    name = models.CharField(max_length=255, blank=True)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "source", "type", "name"], name="event_volume_unique_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name or self.type}: {self.events}"


class WorkspaceHealth(models.Model):
    """A workspace's all-time figures as of the last rollup, and when that ran."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, primary_key=True, related_name="+")
    refreshed_at = models.DateTimeField()
    refresh_ms = models.PositiveIntegerField(default=0, help_text="how long the last rollup took")
    anonymous_ids = models.PositiveIntegerField(default=0)
    anonymous_ids_identified = models.PositiveIntegerField(default=0)
    duplicate_groups = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "workspace health"

    def __str__(self) -> str:
        return f"health of workspace {self.workspace_id} at {self.refreshed_at:%Y-%m-%d %H:%M}"


class AuditEntry(models.Model):
    """Who did what, when, from the dashboards or the Django admin: merges, dismissals, splits, replays, keys."""

    class Action(models.TextChoices):
        MERGE = "merge", "Merged"
        DISMISS = "dismiss", "Dismissed"
        SPLIT = "split", "Split"
        REPLAY = "replay", "Replayed"
        KEY_ISSUED = "key_issued", "Key issued"
        KEY_REVOKED = "key_revoked", "Key revoked"
        IDENTITY_SECRET_ISSUED = "secret_issued", "Identity secret issued"
        ROLLUP_REFRESHED = "rollup_refreshed", "Figures recomputed"

    # No index of its own: audit_ws_created_idx leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept beside the foreign key: the log still says who after the account is deleted.
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=20, choices=Action)
    target = models.CharField(max_length=300, help_text="what it was done to, for people to read")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["workspace", "created_at"], name="audit_ws_created_idx")]

    def __str__(self) -> str:
        return f"{self.actor_username} {self.action} {self.target}"
