"""Reads for tracking plans: the compiled plan ingest applies, type drift, and plan violations."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from events.models import Event
from tracking.models import PlannedEvent, PropertyAlias, PropertyType, TrackingPlan
from tracking.plans import CompiledPlan, EventRule, PropertyRule, name_fold
from workspaces.models import Workspace

# workspace id → its compiled plan, per process. One indexed query per request checks it is current.
_compiled: dict[int, CompiledPlan] = {}


def tracking_plan_compiled(*, workspace: Workspace) -> CompiledPlan | None:
    """The workspace's plan as ingest applies it, or None when it has none yet.

    Whether this process's compiled copy is current (its pk and updated_at match) is read with the
    workspace when it came with its plan (ingest's source lookup selects it), else asked in one query;
    re-reading a changed plan takes four more.
    """
    relation = Workspace.tracking_plan.related
    plan = relation.get_cached_value(workspace, default=None)
    if plan is not None:
        current = (plan.pk, plan.updated_at)
    else:  # not read with the workspace, or it had none then (ingest seeds the default and asks again)
        current = TrackingPlan.objects.filter(workspace=workspace).values_list("pk", "updated_at").first()
    if current is None:
        return None
    workspace_id = workspace.pk
    cached = _compiled.get(workspace_id)
    if cached is not None and (cached.plan_id, cached.updated_at) == current:
        return cached
    compiled = _compile(TrackingPlan.objects.get(pk=current[0]))
    _compiled[workspace_id] = compiled
    return compiled


def storm_anchors(*, workspace_id: int, spans: dict[str, tuple[datetime, datetime]]) -> list[tuple[str, str, datetime]]:
    """Forwarded events (not held) of the workspace with these de-duplication keys, each within its key's span.

    Returns (event id, dedup key, timestamp). On Postgres, each key is one probe of the key's index
    (event_dedup_ts_idx), asked in terms no other index can answer: the key, and its span as the row
    comparison `(dedup_key, timestamp)` between `(key, start)` and `(key, end)`, in a LATERAL subquery
    that OFFSET 0 keeps apart, so it runs once per key and the workspace is checked on what it finds.
    With the workspace or plain time bounds in the query, a workspace-led or timestamp index could
    answer too, and under statistics older than the workspace's events (autovacuum behind, a new
    workspace's first minute) the planner took one and read every event of the workspace or window,
    per request (bench/ANALYSIS.md). `dedup_key <> ''` is the partial index's own condition.
    """
    if connection.vendor != "postgresql":
        rows = Event.objects.filter(
            workspace_id=workspace_id,
            dedup_key__in=list(spans),
            timestamp__gte=min(start for start, _ in spans.values()),
            timestamp__lte=max(end for _, end in spans.values()),
            hold=Event.Hold.NONE,
        )
        return list(rows.values_list("pk", "dedup_key", "timestamp"))
    table = connection.ops.quote_name(Event._meta.db_table)
    starts, ends = zip(*spans.values(), strict=True)
    with connection.cursor() as cursor:
        cursor.execute(  # the spans as one array per column: the statement's text is fixed, parsed once per process
            "SELECT event.id, event.dedup_key, event.timestamp "  # noqa: S608 - a quoted name and placeholders
            "FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[]) "
            "AS span (key, start_at, end_at) CROSS JOIN LATERAL ("
            f"SELECT id, dedup_key, timestamp, workspace_id FROM {table} WHERE dedup_key = span.key "
            "AND dedup_key <> '' AND (dedup_key, timestamp) >= (span.key, span.start_at) "
            "AND (dedup_key, timestamp) <= (span.key, span.end_at) AND hold = %s OFFSET 0) AS event "
            "WHERE event.workspace_id = %s",
            [list(spans), list(starts), list(ends), Event.Hold.NONE, workspace_id],
        )
        return cursor.fetchall()


def _compile(plan: TrackingPlan) -> CompiledPlan:
    planned = list(PlannedEvent.objects.filter(plan=plan).prefetch_related("properties").order_by("pk"))
    plan_wide: dict[str, str] = {}
    per_event: dict[int, dict[str, str]] = defaultdict(dict)
    for alias, name, event_id in PropertyAlias.objects.filter(plan=plan).values_list("alias", "name", "event_id"):
        (per_event[event_id] if event_id else plan_wide)[alias] = name
    names: dict[str, str] = {}
    folded: dict[str, str] = {}
    events: dict[str, EventRule] = {}
    for event in planned:
        for name in [event.name, *event.alias_list]:
            names.setdefault(name, event.name)
            folded.setdefault(name_fold(name), event.name)
        events[event.name] = EventRule(
            name=event.name,
            block=event.mode == PlannedEvent.Mode.BLOCK,
            properties=tuple(
                PropertyRule(
                    name=prop.name,
                    type=prop.type,
                    required=prop.required,
                    allowed=frozenset(prop.allowed_list),
                    normalization=prop.normalization,
                    item_shape=tuple((str(key), str(type_)) for key, type_ in (prop.item_shape or {}).items()),
                )
                for prop in event.properties.all()
            ),
            aliases={**plan_wide, **per_event.get(event.pk, {})},
        )
    return CompiledPlan(
        plan_id=plan.pk,
        updated_at=plan.updated_at,
        unplanned=plan.unplanned_events,
        storm_window=timedelta(seconds=plan.storm_window_seconds),
        order_window=timedelta(seconds=plan.order_confirmation_window_seconds),
        names=names,
        folded=folded,
        events=events,
        property_aliases=plan_wide,
    )


def planned_event_names(*, workspace: Workspace) -> list[str]:
    return list(PlannedEvent.objects.filter(plan__workspace=workspace).values_list("name", flat=True))


@dataclass(frozen=True, slots=True)
class PropertyDrift:
    """A property of one event name seen with more than one JSON type, with the first event of each type."""

    event_name: str
    property: str
    types: list[str]
    first_events: dict[str, str | None]  # type → the id of the first event that carried it
    last_seen_at: datetime


def property_drift(*, workspace: Workspace, since: datetime) -> list[PropertyDrift]:
    """Type drift: properties seen with two or more types among the types seen since `since`. One query."""
    by_property: dict[tuple[str, str], list[tuple[str, str | None, datetime]]] = defaultdict(list)
    rows = (
        PropertyType.objects.filter(workspace=workspace, last_seen_at__gte=since)
        .order_by("event_name", "property", "type")
        .values_list("event_name", "property", "type", "first_event_id", "last_seen_at")
    )
    for event_name, prop, type_, first_event_id, last_seen_at in rows:
        by_property[(event_name, prop)].append((type_, first_event_id, last_seen_at))
    return [
        PropertyDrift(
            event_name=event_name,
            property=prop,
            types=[type_ for type_, _, _ in seen],
            first_events={type_: event_id for type_, event_id, _ in seen},
            last_seen_at=max(last for _, _, last in seen),
        )
        for (event_name, prop), seen in by_property.items()
        if len(seen) > 1
    ]


@dataclass(frozen=True, slots=True)
class ViolationSummary:
    """Plan violations over a period: how many events had any, by event name, by kind and by property."""

    events: int
    by_event: dict[str, int]
    by_kind: dict[str, int]
    by_property: dict[tuple[str, str], int]  # (event name, property) → events


def plan_violations_summary(
    *, workspace: Workspace, since: datetime, until: datetime | None = None, limit: int = 100_000
) -> ViolationSummary:
    """Violations of track events with `since <= timestamp < until`, read from at most `limit` events. One query."""
    events = Event.objects.filter(workspace=workspace, type=Event.Type.TRACK, timestamp__gte=since).exclude(
        violations=[]
    )
    if until is not None:
        events = events.filter(timestamp__lt=until)
    by_event: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    by_property: Counter[tuple[str, str]] = Counter()
    total = 0
    for name, violations in events.values_list("name", "violations")[:limit]:
        total += 1
        by_event[name] += 1
        for violation in violations or []:
            by_kind[violation.get("kind", "")] += 1
            if violation.get("property"):
                by_property[(name, violation["property"])] += 1
    return ViolationSummary(events=total, by_event=dict(by_event), by_kind=dict(by_kind), by_property=dict(by_property))
