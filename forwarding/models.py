from django.db import models
from django.db.models import Q

from events.models import Event
from workspaces.models import Workspace


class Delivery(models.Model):
    """One operation that must reach Customer.io: an outbox row written with what caused it.

    States: pending → sending → delivered | failed | dead (or dry_run). A pending row with
    attempts > 0 is retrying; `next_attempt_at` holds its back-off in the database, not in Celery.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"  # refused by Customer.io (a 4xx) or by our own pre-flight checks
        DEAD = "dead"  # retried past the attempt limit and the time window
        DRY_RUN = "dry_run"  # recorded, not sent: the workspace is in dry-run mode

    class Kind(models.TextChoices):
        IDENTIFY = "identify"  # v1 PUT /api/v1/customers/{id} (can carry anonymous_id)
        EVENT = "event"  # v2 batch op: event / page / screen for a known person
        ANONYMOUS_EVENT = "anonymous_event"  # v1 POST /api/v1/events with anonymous_id
        MERGE = "merge"  # v2 batch op
        DELETE = "delete"  # v2 batch op
        SUPPRESS = "suppress"  # v2 batch op

    OPEN_STATES = (State.PENDING, State.SENDING)
    # Operations that later ones of the same person must wait for (and that wait for all earlier ones).
    BARRIER_KINDS = (Kind.IDENTIFY, Kind.MERGE, Kind.DELETE, Kind.SUPPRESS)

    # No index of its own: every index below starts with the workspace (each index is written again on
    # every state change, and a delivery changes state twice).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    # Per-person order: one lane per person ("p:<id>"); `after_lane` is another lane that must drain
    # first (a merge waits for the merged-away person's operations; an identify carrying an
    # anonymous id waits for that anonymous person's events, so Customer.io can attach them).
    lane = models.CharField(max_length=64)
    after_lane = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=Kind)
    is_barrier = models.BooleanField(default=False)
    # The request, decided once: v1 {"method", "path", "body"} or v2 {"op"}; resent as is on retries.
    request = models.JSONField()
    # Indexed in Meta: the default index of a string foreign key comes with a LIKE twin nobody queries.
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries", db_index=False
    )
    merge = models.ForeignKey(
        "identities.Merge",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        db_index=False,  # indexed in Meta, only where set
    )
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    send_alone = models.BooleanField(default=False, help_text="its v2 batch was refused whole: send it by itself")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["workspace", "next_attempt_at"],
                condition=Q(state="pending"),
                name="delivery_due_idx",
            ),
            # The claim walks a workspace's pending rows in id order: without this index it walks the
            # primary key past every delivered row, so each claim slowed as a backlog drained.
            models.Index(fields=["workspace", "id"], condition=Q(state="pending"), name="delivery_pending_idx"),
            models.Index(
                fields=["workspace", "lane", "id"],
                condition=Q(state__in=["pending", "sending"]),
                name="delivery_open_lane_idx",
            ),
            # Claims a dead worker left behind: only rows being sent are in it.
            models.Index(fields=["claimed_at"], condition=Q(state="sending"), name="delivery_sending_claimed_idx"),
            models.Index(fields=["workspace", "state", "created_at"], name="delivery_ws_state_created_idx"),
            # A state change is an update no index can skip (the state is in the partial indexes above), so
            # every index takes an entry each time: these two are kept to what erasure and merges look up.
            models.Index(fields=["event"], name="delivery_event_idx"),
            models.Index(fields=["merge"], condition=Q(merge__isnull=False), name="delivery_merge_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"


class DeliveryAttempt(models.Model):
    """One try at sending a delivery: when, what Customer.io answered, and how long it took."""

    # No index of its own (attempt_delivery_idx starts with it) and no database constraint: Postgres checks a
    # foreign key row by row, a locked lookup of the delivery for each of a request's up to 500 attempt rows,
    # which cost as much as the rest of recording a response (bench/ANALYSIS.md). Attempts are only written
    # by INSERT … SELECT from existing deliveries, and Django's CASCADE deletes them before their delivery.
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", db_index=False, db_constraint=False
    )
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="none: no answer")
    response_body = models.CharField(max_length=1000, blank=True)
    error = models.CharField(max_length=300, blank=True)
    latency_ms = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["delivery", "started_at"], name="attempt_delivery_idx")]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} after {self.latency_ms} ms"


class RateBucket(models.Model):
    """A workspace's token bucket when there is no Redis: a row updated under the database's write lock."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, primary_key=True)
    tokens = models.FloatField()
    updated = models.FloatField(help_text="unix time of the last refill")

    def __str__(self) -> str:
        return f"{self.tokens:.1f} tokens"
