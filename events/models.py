from django.db import models
from django.db.models import Q

from workspaces.models import Source, Workspace

# Raw identifiers are stored as received (rule 7 decides later whether they may identify anyone);
# this bound keeps every value indexable on Postgres and SQLite. Longer ones are rejected at ingest.
MAX_ID_CHARS = 255
MAX_NAME_CHARS = 255
MAX_MESSAGE_ID_CHARS = 200


class Event(models.Model):
    """One Segment-spec message accepted at ingest (identify, track, page, screen, group or alias)."""

    class Type(models.TextChoices):
        IDENTIFY = "identify"
        TRACK = "track"
        PAGE = "page"
        SCREEN = "screen"
        GROUP = "group"
        ALIAS = "alias"

    class Hold(models.TextChoices):
        """Why a stored event is not forwarded to Customer.io (the tracking plan and de-duplication decide)."""

        NONE = "", "forwarded"
        BLOCKED = "blocked"  # its plan entry (or the unplanned-events setting) says block
        DUPLICATE = "duplicate"  # an order_id already reported (or confirmed) by another order_completed
        STORM = "storm"  # an identical added_to_cart / product_viewed within the storm window
        UNCONFIRMED = "unconfirmed"  # a browser order_completed waiting for its server confirmation

    # A ULID assigned at ingest: time-ordered, and reused as the Customer.io event `id` on every
    # delivery attempt so Customer.io de-duplicates retries.
    id = models.CharField(primary_key=True, max_length=26, editable=False)
    # No index of their own: the indexes below that start with the workspace serve its look-ups (and a
    # workspace's deletion), the unique constraint the source's. Each index is one more entry per stored
    # event (bench/ANALYSIS.md, P1).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="events", db_index=False)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(max_length=8, choices=Type)
    name = models.CharField(max_length=MAX_NAME_CHARS, blank=True, help_text="track: the event; page/screen: the name")
    user_id = models.CharField(max_length=MAX_ID_CHARS, blank=True)
    anonymous_id = models.CharField(max_length=MAX_ID_CHARS, blank=True)
    previous_id = models.CharField(max_length=MAX_ID_CHARS, blank=True, help_text="alias only")
    group_id = models.CharField(max_length=MAX_ID_CHARS, blank=True, help_text="group only")
    message_id = models.CharField(max_length=MAX_MESSAGE_ID_CHARS)
    properties = models.JSONField(default=dict, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    integrations = models.JSONField(default=dict, blank=True)
    original_timestamp = models.DateTimeField(null=True, blank=True, help_text="the client's clock")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="the client's clock when sending")
    received_at = models.DateTimeField(help_text="the server's clock")
    timestamp = models.DateTimeField(help_text="when it happened, corrected for client clock skew")
    flags = models.JSONField(default=list, blank=True, help_text="what ingest noticed, e.g. timestamp_clamped")
    # The tracking plan (tracking/plans.py): what arrived when it changed anything, what it changed and
    # what it found wrong; `hold` keeps the event out of the outbox.
    received_name = models.CharField(max_length=MAX_NAME_CHARS, blank=True, help_text="as received, if renamed")
    received_properties = models.JSONField(null=True, blank=True, help_text="as received, if the plan changed them")
    normalizations = models.JSONField(default=list, blank=True)
    violations = models.JSONField(default=list, blank=True)
    hold = models.CharField(max_length=12, choices=Hold, blank=True, default=Hold.NONE)
    # Same key, same thing: an order's id, or an added_to_cart / product_viewed storm signature.
    dedup_key = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            # Clients retry: a repeated messageId from one source is the same message.
            models.UniqueConstraint(fields=["source", "message_id"], name="event_unique_message_per_source"),
        ]
        indexes = [
            models.Index(fields=["workspace", "anonymous_id"], name="event_ws_anonymous_idx"),
            models.Index(fields=["workspace", "user_id"], name="event_ws_user_idx"),
            models.Index(fields=["workspace", "timestamp"], name="event_ws_timestamp_idx"),
            models.Index(fields=["workspace", "name", "timestamp"], name="event_ws_name_ts_idx"),
            # The storm look-back (tracking/selectors.py) asks by key alone, so no other index can answer it,
            # whatever the statistics say of the workspace; it checks the workspace of what it finds.
            models.Index(fields=["dedup_key", "timestamp"], condition=~Q(dedup_key=""), name="event_dedup_ts_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.name or ''} ({self.id})".replace("  ", " ")


class RejectedMessage(models.Model):
    """A message that failed validation, kept with its reason so that nothing vanishes silently."""

    # No index of its own: rejected_ws_received_idx leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="rejected_messages", db_index=False)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="rejected_messages")
    received_at = models.DateTimeField()
    code = models.CharField(max_length=50)
    message = models.CharField(max_length=500)
    field = models.CharField(max_length=100, blank=True)
    batch_index = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField(null=True, blank=True, help_text="the message as received (cut when too large)")

    class Meta:
        indexes = [models.Index(fields=["workspace", "received_at"], name="rejected_ws_received_idx")]

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
