from django.db import models
from django.db.models import Q
from django.utils import timezone

from events.models import MAX_ID_CHARS, MAX_NAME_CHARS, Event
from workspaces.models import Workspace

MAX_PROPERTY_CHARS = 100


class TrackingPlan(models.Model):
    """A workspace's tracking plan: the events it expects, their properties, and what ingest does about them."""

    class Unplanned(models.TextChoices):
        ALLOW = "allow", "allow (forward, not flagged)"
        FLAG = "flag", "flag (forward, recorded as a violation)"
        BLOCK = "block", "block (store, never forward)"

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="tracking_plan")
    unplanned_events = models.CharField(
        max_length=5, choices=Unplanned, default=Unplanned.FLAG, help_text="track events the plan does not name"
    )
    storm_window_seconds = models.PositiveIntegerField(
        default=10,
        help_text="identical added_to_cart / product_viewed events this close together are collapsed (0: never)",
    )
    order_confirmation_window_seconds = models.PositiveIntegerField(
        default=900,
        help_text="how long a browser order_completed waits for its server confirmation before it is forwarded "
        "anyway (0: browser orders are forwarded at once)",
    )
    # Ingest caches the compiled plan per process and re-reads it when this moves (services.tracking_plan_touch).
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"tracking plan of {self.workspace.name}"


class PlannedEvent(models.Model):
    """An event the plan expects, by its canonical name, with the names it also arrives under."""

    class Mode(models.TextChoices):
        ALLOW = "allow", "allow (forward; violations are flagged)"
        BLOCK = "block", "block (store, never forward)"

    # No index of its own: planned_event_unique_name leads with it (tests/test_indexes.py).
    plan = models.ForeignKey(TrackingPlan, on_delete=models.CASCADE, related_name="events", db_index=False)
    name = models.CharField(max_length=MAX_NAME_CHARS, help_text="the canonical name, e.g. added_to_cart")
    mode = models.CharField(max_length=5, choices=Mode, default=Mode.ALLOW)
    aliases = models.TextField(
        blank=True,
        help_text="other names it arrives under, one per line (e.g. AddToCart). Names and aliases also match "
        "ignoring case, spaces and punctuation: 'Added to Cart' finds added_to_cart.",
    )
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="planned_event_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]


class PlannedProperty(models.Model):
    """One property of a planned event: its type, whether it is required, and how it is normalized."""

    class Type(models.TextChoices):
        STRING = "string"
        NUMBER = "number"
        INTEGER = "integer"
        BOOLEAN = "boolean"
        ARRAY = "array"
        OBJECT = "object"

    class Normalization(models.TextChoices):
        NONE = "", "none"
        TRIM = "trim", "trim whitespace"
        LOWER = "lower", "trim and lower-case"
        UPPER = "upper", "trim and upper-case"

    # No index of its own: planned_property_unique_name leads with it (tests/test_indexes.py).
    event = models.ForeignKey(PlannedEvent, on_delete=models.CASCADE, related_name="properties", db_index=False)
    name = models.CharField(max_length=MAX_PROPERTY_CHARS)
    type = models.CharField(max_length=7, choices=Type)
    required = models.BooleanField(default=True)
    allowed_values = models.TextField(blank=True, help_text="one per line, compared after normalization; empty: any")
    normalization = models.CharField(max_length=5, choices=Normalization, blank=True, default="")
    item_shape = models.JSONField(
        default=dict,
        blank=True,
        help_text='arrays of objects: each item\'s required properties and types, e.g. {"sku": "string"}',
    )

    class Meta:
        ordering = ["event", "pk"]
        verbose_name_plural = "planned properties"
        constraints = [models.UniqueConstraint(fields=["event", "name"], name="planned_property_unique_name")]

    def __str__(self) -> str:
        return f"{self.event.name}.{self.name} ({self.type})"

    @property
    def allowed_list(self) -> list[str]:
        return [line.strip() for line in self.allowed_values.splitlines() if line.strip()]


class PropertyAlias(models.Model):
    """A property name that arrives instead of the planned one (productId for product_id), renamed at ingest."""

    # No index of its own: property_alias_unique_per_event leads with it (tests/test_indexes.py).
    plan = models.ForeignKey(TrackingPlan, on_delete=models.CASCADE, related_name="property_aliases", db_index=False)
    alias = models.CharField(max_length=MAX_PROPERTY_CHARS, help_text="as received, exactly")
    name = models.CharField(max_length=MAX_PROPERTY_CHARS, help_text="the planned name")
    event = models.ForeignKey(
        PlannedEvent,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="property_aliases",
        help_text="only for this event; empty: every event",
    )

    class Meta:
        verbose_name_plural = "property aliases"
        constraints = [
            models.UniqueConstraint(fields=["plan", "event", "alias"], name="property_alias_unique_per_event"),
            models.UniqueConstraint(
                fields=["plan", "alias"], condition=Q(event=None), name="property_alias_unique_plan_wide"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alias} → {self.name}"


class PropertyType(models.Model):
    """A JSON type seen for one property of one event name; two rows for one property are type drift.

    Written insert-only per batch (ON CONFLICT DO NOTHING), so ingest never waits on a hot row;
    `last_seen_at` is refreshed at most hourly.
    """

    # No index of its own: property_type_unique leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="property_types", db_index=False)
    event_name = models.CharField(max_length=MAX_NAME_CHARS)
    property = models.CharField(max_length=MAX_PROPERTY_CHARS + 10, help_text="items[].sku for array items")
    type = models.CharField(max_length=7, help_text="string, number, boolean, array or object, as received")
    first_event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "event_name", "property", "type"], name="property_type_unique"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "last_seen_at"], name="property_type_ws_seen_idx")]

    def __str__(self) -> str:
        return f"{self.event_name}.{self.property}: {self.type}"


class OrderSeen(models.Model):
    """One order_id of a workspace and who reported it: the lock and the memory behind order de-duplication.

    The unique (workspace, order_id) row is locked by every batch carrying that order, so two
    concurrent requests cannot both forward it.
    """

    # No index of its own: order_seen_unique leads with it (tests/test_indexes.py).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="orders_seen", db_index=False)
    order_id = models.CharField(max_length=MAX_ID_CHARS)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    browser_event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="first from a browser"
    )
    browser_seen_at = models.DateTimeField(null=True, blank=True)
    server_event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="first from a server"
    )
    server_seen_at = models.DateTimeField(null=True, blank=True)
    browser_count = models.PositiveIntegerField(default=0)
    server_count = models.PositiveIntegerField(default=0)
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="an unconfirmed browser order forwarded after the confirmation window"
    )

    class Meta:
        verbose_name_plural = "orders seen"
        constraints = [models.UniqueConstraint(fields=["workspace", "order_id"], name="order_seen_unique")]
        indexes = [
            models.Index(fields=["workspace", "last_seen_at"], name="order_seen_ws_last_idx"),
            models.Index(
                fields=["browser_seen_at"],
                condition=Q(server_event=None, released_at=None, browser_event__isnull=False),
                name="order_seen_unconfirmed_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.order_id

    @property
    def forwarded_event_id(self) -> str | None:
        if self.server_event_id and not self.released_at:
            return self.server_event_id
        return self.browser_event_id if self.released_at else None
