"""Writes for tracking plans: seeding and editing plans, applying them at ingest, de-duplication and type drift.

Ingest calls two functions, inside event_store_batch's transaction:
- tracking_plan_apply(), before the insert: plan the messages (pure dict work, one query when the
  cached plan is current);
- tracking_events_stored(), after it, on the rows that went in: order and storm de-duplication set
  `hold` (so forwarding skips them), and the JSON types seen are recorded for type drift.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from events.models import Event
from forwarding.planning import deliveries_nudge, deliveries_plan_events
from identities.selectors import event_person
from tracking.dedup import ORDER_EVENT, STORM_EVENTS, dedup_key_for, order_id_of
from tracking.default_plan import default_plan_seed
from tracking.models import OrderSeen, PlannedEvent, PlannedProperty, PropertyAlias, PropertyType, TrackingPlan
from tracking.plans import CompiledPlan, json_type, plan_apply
from tracking.selectors import storm_anchors, tracking_plan_compiled
from workspaces.models import Source, Workspace

logger = logging.getLogger(__name__)

# A type's last_seen_at is refreshed when older than this, and each process looks for stale types of
# a workspace at most every TYPE_STALE_CHECK: a busy property costs no UPDATE (nor a read) per batch.
TYPE_SEEN_REFRESH = timedelta(hours=1)
TYPE_STALE_CHECK = timedelta(minutes=5)
_stale_checked: dict[int, datetime] = {}  # workspace id → when this process last looked
# workspace id → the (event, property, type) keys this process has seen committed: each is inserted once
# per stale check (TYPE_STALE_CHECK), not once per batch, so a row deleted meanwhile comes back within one.
# Bounded: past the bound the memory starts over.
_types_recorded: dict[int, set[tuple[str, str, str]]] = {}
MAX_REMEMBERED_TYPES = 20_000
# Bounds on what one batch records for type drift (a payload with thousands of dynamic keys must not
# become thousands of rows).
MAX_TYPED_PROPERTIES = 300
MAX_TYPED_ITEMS = 50
RELEASE_BATCH = 500


# --- plans ---------------------------------------------------------------------------------------


def tracking_plan_ensure_default(*, workspace: Workspace) -> TrackingPlan:
    """The workspace's plan; a workspace without one gets the default D2C plan (safe under concurrency)."""
    plan = TrackingPlan.objects.filter(workspace=workspace).first()
    if plan is not None:
        return plan
    try:
        with transaction.atomic():
            # By id, not instance: create() would put the plan in the workspace's relation cache, where
            # tracking_plan_compiled would find it even after a concurrent seed rolled it back.
            plan = TrackingPlan.objects.create(workspace_id=workspace.pk, updated_at=timezone.now())
            default_plan_seed(
                plan, planned_event=PlannedEvent, planned_property=PlannedProperty, property_alias=PropertyAlias
            )
    except IntegrityError:  # a concurrent request seeded it first
        plan = TrackingPlan.objects.get(workspace=workspace)
    tracking_plan_compiled(workspace=workspace)  # warm this process's cache for the ingest to come
    return plan


def tracking_plan_touch(*, plan: TrackingPlan) -> None:
    """Mark a plan changed (after editing its events, properties or aliases) so ingest re-reads it."""
    plan.updated_at = timezone.now()
    TrackingPlan.objects.filter(pk=plan.pk).update(updated_at=plan.updated_at)


# --- ingest --------------------------------------------------------------------------------------


def tracking_plan_apply(*, workspace: Workspace, messages: Sequence[dict]) -> CompiledPlan | None:
    """Apply the workspace's plan to accepted messages (Event fields), in place; returns the plan applied.

    Name alias → property aliases → normalization → validation, then the de-duplication key.
    Plans are about track events: a request without one costs nothing here (and returns None).
    """
    if not any(fields["type"] == Event.Type.TRACK for fields in messages):
        return None
    plan = tracking_plan_compiled(workspace=workspace)
    if plan is None:
        tracking_plan_ensure_default(workspace=workspace)
        plan = tracking_plan_compiled(workspace=workspace)
    for fields in messages:
        plan_apply(plan, fields)
        key = dedup_key_for(fields) if fields["type"] == Event.Type.TRACK else ""
        if key:
            fields["dedup_key"] = key
    return plan


def tracking_events_stored(*, source: Source, events: Sequence[Event], plan: CompiledPlan | None) -> None:
    """After the insert, before forwarding is planned: hold duplicates and storms, record property types.

    Sets `hold` on the given Event objects (and their rows), so deliveries_plan_events skips them.
    A fixed number of queries per batch.
    """
    tracks = [event for event in events if event.type == Event.Type.TRACK]
    if not tracks or plan is None:
        return
    holds: dict[str, str] = {}
    if any(event.name == ORDER_EVENT and event.dedup_key and not event.hold for event in tracks):
        holds |= _orders_deduplicate(source, tracks, plan)
    if plan.storm_window and any(event.name in STORM_EVENTS and event.dedup_key for event in tracks):
        holds |= _storms_collapse(source.workspace_id, tracks, plan.storm_window)
    if holds:
        for event in tracks:
            if event.pk in holds:
                event.hold = holds[event.pk]
        Event.objects.filter(pk__in=list(holds)).update(
            hold=Case(*(When(pk=pk, then=Value(hold)) for pk, hold in holds.items()), default=Value(""))
        )
    _property_types_record(source.workspace_id, tracks)


def _orders_deduplicate(source: Source, tracks: list[Event], plan: CompiledPlan) -> dict[str, str]:
    """One purchase per order_id: the first server report is forwarded; a browser report waits for it.

    The OrderSeen rows of the batch's orders are created if missing and locked (in pk order), so a
    concurrent request carrying the same order waits here and then sees this one's decision.
    """
    orders = [event for event in tracks if event.name == ORDER_EVENT and event.dedup_key and not event.hold]
    order_ids = list(dict.fromkeys(order_id_of(event.properties) for event in orders))
    now = timezone.now()
    OrderSeen.objects.bulk_create(
        [
            OrderSeen(workspace_id=source.workspace_id, order_id=order_id, first_seen_at=now, last_seen_at=now)
            for order_id in order_ids
        ],
        ignore_conflicts=True,
    )
    rows = {
        row.order_id: row
        for row in OrderSeen.objects.select_for_update()
        .filter(workspace_id=source.workspace_id, order_id__in=order_ids)
        .order_by("pk")
    }
    holds: dict[str, str] = {}
    confirmed: list[str] = []  # browser reports the server has now confirmed
    from_server = source.kind == Source.Kind.SERVER
    for event in orders:
        row = rows[order_id_of(event.properties)]
        row.last_seen_at = now
        if from_server:
            row.server_count += 1
            if row.server_event_id is None:
                row.server_event_id, row.server_seen_at = event.pk, event.received_at
                if row.released_at is None:
                    if row.browser_event_id:
                        confirmed.append(row.browser_event_id)
                    continue  # the one forwarded
            holds[event.pk] = Event.Hold.DUPLICATE  # a second server report, or the browser's was released
        else:
            row.browser_count += 1
            first_report = row.browser_event_id is None and row.server_event_id is None
            if row.browser_event_id is None:
                row.browser_event_id, row.browser_seen_at = event.pk, event.received_at
            if not first_report:
                holds[event.pk] = Event.Hold.DUPLICATE
            elif plan.order_window:
                holds[event.pk] = Event.Hold.UNCONFIRMED
            else:
                row.released_at = now  # no confirmation window: the browser's report is the order
    OrderSeen.objects.bulk_update(
        list(rows.values()),
        [
            *("last_seen_at", "released_at"),
            *("server_event", "server_seen_at", "server_count"),
            *("browser_event", "browser_seen_at", "browser_count"),
        ],
    )
    if confirmed:
        # The browser's copy stays held for good: the server's report is the one Customer.io hears.
        Event.objects.filter(pk__in=confirmed, hold=Event.Hold.UNCONFIRMED).update(hold=Event.Hold.DUPLICATE)
    return holds


def _storms_collapse(workspace_id: int, tracks: list[Event], window: timedelta) -> dict[str, str]:
    """An identical add or view within `window` (either side, inclusive) of one that was forwarded is a storm.

    Compares event timestamps (when it happened), so a late-arriving duplicate is caught too.
    Best effort under concurrency: two requests racing with the same add may both forward it.
    """
    candidates = sorted(
        (event for event in tracks if event.name in STORM_EVENTS and event.dedup_key and not event.hold),
        key=lambda event: event.timestamp,
    )
    if not candidates:
        return {}
    batch_ids = {event.pk for event in candidates}
    spans: dict[str, tuple[datetime, datetime]] = {}
    for event in candidates:  # in timestamp order: the first sets a key's start, the last its end
        spans[event.dedup_key] = (spans.get(event.dedup_key, (event.timestamp - window,))[0], event.timestamp + window)
    anchors: dict[str, list[datetime]] = defaultdict(list)
    for pk, key, timestamp in storm_anchors(workspace_id=workspace_id, spans=spans):
        if pk not in batch_ids:
            anchors[key].append(timestamp)
    holds: dict[str, str] = {}
    for event in candidates:
        if any(abs(event.timestamp - anchor) <= window for anchor in anchors[event.dedup_key]):
            holds[event.pk] = Event.Hold.STORM
        else:
            anchors[event.dedup_key].append(event.timestamp)
    return holds


def _property_types_record(workspace_id: int, tracks: list[Event]) -> None:
    """Record each (event, property, JSON type) seen, as received: a coerced value counts as its original type.

    An insert of the types this process has not recorded yet (ignoring the ones another process did);
    every few minutes a read of stale types to refresh.
    """
    seen: dict[tuple[str, str, str], str] = {}
    for event in tracks:
        coerced = {entry["property"]: entry["from"] for entry in event.normalizations if entry["kind"] == "coerced"}
        for key, value in event.properties.items():
            if len(seen) >= MAX_TYPED_PROPERTIES:
                break
            type_ = coerced.get(key) or json_type(value)
            if type_ is None or len(key) > 100:
                continue
            seen.setdefault((event.name, key, type_), event.pk)
            if type_ == "array":
                for item in value[:MAX_TYPED_ITEMS]:
                    if isinstance(item, dict):
                        for item_key, item_value in item.items():
                            path = f"{key}[].{item_key}"
                            item_type = coerced.get(path) or json_type(item_value)
                            if item_type is not None and len(path) <= 110:
                                seen.setdefault((event.name, path, item_type), event.pk)
    if not seen:
        return
    now = timezone.now()
    recorded = _types_recorded.setdefault(workspace_id, set())
    if new := [key for key in seen if key not in recorded]:
        PropertyType.objects.bulk_create(
            [
                PropertyType(
                    workspace_id=workspace_id,
                    event_name=name[:255],
                    property=prop,
                    type=type_,
                    first_event_id=seen[(name, prop, type_)],
                    first_seen_at=now,
                    last_seen_at=now,
                )
                for name, prop, type_ in new
            ],
            ignore_conflicts=True,
        )
        if len(recorded) > MAX_REMEMBERED_TYPES:
            recorded.clear()
        # Remembered once the rows are there for good: a rolled-back batch records them again next time.
        transaction.on_commit(lambda: recorded.update(new))
    last_check = _stale_checked.setdefault(workspace_id, now)  # a fresh process waits one interval too
    if now - last_check < TYPE_STALE_CHECK:
        return
    _stale_checked[workspace_id] = now
    recorded.clear()  # the next batch inserts its types again, ignoring those still there
    stale = [
        pk
        for pk, name, prop, type_ in PropertyType.objects.filter(
            workspace_id=workspace_id,
            event_name__in={name for name, _, _ in seen},
            last_seen_at__lt=now - TYPE_SEEN_REFRESH,
        ).values_list("pk", "event_name", "property", "type")
        if (name, prop, type_) in seen
    ]
    if stale:
        PropertyType.objects.filter(pk__in=stale).update(last_seen_at=now)


# --- unconfirmed browser orders ------------------------------------------------------------------


def orders_release_unconfirmed(*, now: datetime | None = None, limit: int = RELEASE_BATCH) -> int:
    """Forward browser orders no server confirmed within their workspace's window; returns how many.

    Customer.io still hears the purchase (late, from the browser's report). Each order is claimed
    with a conditional UPDATE, so a concurrent confirmation or a second run cannot forward it twice:
    whichever commits first wins, and the loser sees released_at or server_event set.
    """
    now = now or timezone.now()
    released = 0
    windows = dict(
        TrackingPlan.objects.filter(order_confirmation_window_seconds__gt=0).values_list(
            "workspace_id", "order_confirmation_window_seconds"
        )
    )
    for workspace_id, window in windows.items():
        due = OrderSeen.objects.filter(
            workspace_id=workspace_id,
            server_event=None,
            released_at=None,
            browser_event__isnull=False,
            browser_seen_at__lte=now - timedelta(seconds=window),
        ).values_list("pk", "browser_event_id")[: limit - released]
        for pk, event_id in due:
            released += _order_release(pk, event_id, now)
        if released >= limit:
            break
    return released


def _order_release(order_pk: int, event_id: str, now: datetime) -> int:
    with transaction.atomic():
        claimed = OrderSeen.objects.filter(pk=order_pk, server_event=None, released_at=None).update(released_at=now)
        if claimed != 1:
            return 0
        event = Event.objects.select_related("workspace").filter(pk=event_id, hold=Event.Hold.UNCONFIRMED).first()
        if event is None:
            return 0
        Event.objects.filter(pk=event.pk).update(hold=Event.Hold.NONE)
        event.hold = Event.Hold.NONE
        person = event_person(event=event)
        if person is not None and deliveries_plan_events(
            workspace=event.workspace, events=[event], people={event.pk: person}
        ):
            deliveries_nudge(workspace_id=event.workspace_id)
    logger.info("released unconfirmed browser order event %s", event_id)
    return 1
