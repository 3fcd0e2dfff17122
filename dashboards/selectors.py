"""Reads for the dashboards.

Two kinds live here. `*_aggregate` functions scan raw tables (events, identities, the outbox) and are
called only by the rollup task. Everything else is what a page reads: rollup rows, a few bounded live
queries (the outbox backlog, the latest errors), and one person's timeline through the identities'
selectors. A page's query count does not grow with the data; tests hold it to that.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    prefetch_related_objects,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from dashboards.charts import Point, Series, line_chart, sparkline, stacked_bars
from dashboards.models import LATENCY_BOUNDS_MS, AuditEntry, DailyHealth, EventVolume, WorkspaceHealth
from events.models import Event, RejectedMessage
from forwarding.models import Delivery, DeliveryAttempt
from identities.models import DuplicateDismissal, Identity, IdentityWarning, Merge, Person, Split
from identities.selectors import (
    DuplicateGroup,
    duplicates_find,
    event_person,
    person_events,
    person_get_by_any_identifier,
)
from segments.definitions import SEGMENTS, Expectation
from segments.models import SegmentSnapshot
from tracking.models import OrderSeen
from tracking.selectors import PropertyDrift, property_drift
from workspaces.models import Source, Workspace

NO_VALUE = "\u2013"  # an en dash: no figure
PERIODS = (7, 14, 30)
DEFAULT_PERIOD = 30
# The rollup keeps this many days fresh: the longest period and the one before it, plus today.
ROLLUP_DAYS = 2 * max(PERIODS) + 1

INDIGO, TEAL, AMBER, ROSE, SLATE = "#4f46e5", "#0d9488", "#d97706", "#e11d48", "#64748b"
VOLUME_COLORS = ("#4f46e5", "#0d9488", "#d97706", "#db2777", "#0284c7", "#65a30d", "#7c3aed")
OTHER_COLOR = "#cbd0dc"
METRIC_CHART = {"width": 300, "height": 118}


def day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


# --- Aggregates for the rollup task (raw tables) --------------------------------------------------


def event_buckets_aggregate(*, workspace: Workspace, start: datetime) -> list[dict]:
    """Events since `start` per (day, source, type, name), with how many belong to an identified person now.

    An event's person is found as identity resolution finds it: its user id when that is a known
    identity, else its anonymous id. Identities always point at live people (a merge moves them), so
    the identity's person says whether the event's person is identified today.
    """
    user_known = Identity.objects.filter(
        workspace_id=workspace.pk, kind__in=[Identity.Kind.USER_ID, Identity.Kind.EMAIL], value=OuterRef("user_id")
    )
    anonymous_identified = Identity.objects.filter(
        workspace_id=workspace.pk,
        kind=Identity.Kind.ANONYMOUS_ID,
        value=OuterRef("anonymous_id"),
        person__is_identified=True,
    )
    return list(
        Event.objects.filter(workspace_id=workspace.pk, timestamp__gte=start)
        .annotate(day=TruncDate("timestamp"))
        .values("day", "source_id", "type", "name")
        .annotate(
            events=Count("id"),
            identified=Count("id", filter=Q(Exists(user_known)) | Q(Exists(anonymous_identified))),
            normalized=Count("id", filter=~Q(normalizations=[])),
            violating=Count("id", filter=~Q(violations=[])),
            held=Count("id", filter=~Q(hold="")),
        )
        .order_by()
    )


def violations_by_day_aggregate(*, workspace: Workspace, start: datetime) -> dict[date, dict]:
    """The tracking plan's violations per day: by event, by event.property, by kind, and unplanned names.

    Reads only the events that broke the plan (their violations are kept on the event by ingest).
    """
    parts = ("by_event", "by_property", "by_kind", "unplanned")
    days: dict[date, dict] = defaultdict(lambda: {part: defaultdict(int) for part in parts})
    rows = (
        Event.objects.filter(workspace_id=workspace.pk, timestamp__gte=start)
        .exclude(violations=[])
        .annotate(day=TruncDate("timestamp"))
        .values_list("day", "name", "violations")
    )
    for day, name, violations in rows.iterator(chunk_size=2000):
        summary = days[day]
        summary["by_event"][name] += 1
        for violation in violations if isinstance(violations, list) else []:
            if not isinstance(violation, dict):
                continue
            kind = str(violation.get("kind", ""))
            summary["by_kind"][kind] += 1
            if kind == "unplanned_event":
                summary["unplanned"][name] += 1
            elif violation.get("property"):
                summary["by_property"][f"{name}.{violation['property']}"] += 1
    return {day: {key: dict(counts) for key, counts in summary.items()} for day, summary in days.items()}


def anonymous_ids_aggregate(*, workspace: Workspace, start: datetime | None = None) -> dict[date | None, tuple]:
    """Anonymous ids first seen (their identity created) per day since `start`, and how many of them are
    attached to an identified person now; with no `start`, one all-time total under the key None."""
    identities = Identity.objects.filter(workspace_id=workspace.pk, kind=Identity.Kind.ANONYMOUS_ID)
    counts = {"total": Count("id"), "identified": Count("id", filter=Q(person__is_identified=True))}
    if start is None:
        row = identities.aggregate(**counts)
        return {None: (row["total"], row["identified"])}
    rows = (
        identities.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**counts)
        .order_by()
    )
    return {row["day"]: (row["total"], row["identified"]) for row in rows}


def rejected_by_day_aggregate(*, workspace: Workspace, start: datetime) -> dict[date, int]:
    rows = (
        RejectedMessage.objects.filter(workspace_id=workspace.pk, received_at__gte=start)
        .annotate(day=TruncDate("received_at"))
        .values("day")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["day"]: row["count"] for row in rows}


class LatencyMs(Func):
    """delivered_at - created_at in milliseconds, in each database's native arithmetic.

    Django's portable datetime subtraction runs a Python function per row on SQLite; a histogram of
    a million deliveries calls it fifteen million times. julianday() is native.
    """

    output_field = FloatField()

    def __init__(self) -> None:
        super().__init__(F("delivered_at"), F("created_at"))

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s)) * 86400000.0)", arg_joiner=") - julianday(",
            **extra,
        )  # fmt: skip

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="(EXTRACT(EPOCH FROM (%(expressions)s)) * 1000.0)", arg_joiner=" - ",
            **extra,
        )  # fmt: skip


def deliveries_by_day_aggregate(*, workspace: Workspace, start: datetime) -> dict[date, dict]:
    """Outbox rows written per day by their state now, and a cumulative histogram of the delivered ones'
    ingest → delivery latency (conditional counts, so both databases compute it in one query)."""
    delivered = Q(state=Delivery.State.DELIVERED)
    counts = {
        state: Count("id", filter=Q(state=state))
        for state in (Delivery.State.DELIVERED, Delivery.State.FAILED, Delivery.State.DEAD, Delivery.State.DRY_RUN)
    }
    for index, bound in enumerate(LATENCY_BOUNDS_MS):
        counts[f"le_{index}"] = Count("id", filter=delivered & Q(latency__lte=bound))
    rows = (
        Delivery.objects.filter(workspace_id=workspace.pk, created_at__gte=start)
        .annotate(day=TruncDate("created_at"), latency=LatencyMs())
        .values("day")
        .annotate(**counts)
        .order_by()
    )
    return {
        row["day"]: {
            "delivered": row[Delivery.State.DELIVERED],
            "failed": row[Delivery.State.FAILED],
            "dead": row[Delivery.State.DEAD],
            "dry_run": row[Delivery.State.DRY_RUN],
            "latency_cumulative": [row[f"le_{i}"] for i in range(len(LATENCY_BOUNDS_MS))],
        }
        for row in rows
    }


def duplicate_groups_by_day_aggregate(
    *, workspace: Workspace, days: list[date], groups: list[DuplicateGroup]
) -> dict[date, int]:
    """How many duplicate-email groups existed at each day's end, replayed from people's history.

    A person counts from its first sight until it was merged away or suppressed; a group stops
    counting once it was dismissed. Emails are taken as they are now (their history is not kept).
    Shared anonymous-id groups (of `groups`, today's queue) count from their first shared_device warning.
    """
    if not days:
        return {}
    candidates = (
        Person.objects.filter(workspace_id=workspace.pk)
        .exclude(email_folded="")
        .values("email_folded")
        .annotate(members=Count("id"))
        .filter(members__gt=1)
        .values_list("email_folded", flat=True)
    )
    people = list(
        Person.objects.filter(workspace_id=workspace.pk, email_folded__in=candidates).values_list(
            "email_folded", "first_seen", "merged_at", "suppressed_at"
        )
    )
    dismissed = dict(
        DuplicateDismissal.objects.filter(workspace_id=workspace.pk, group_key__startswith="email:").values_list(
            "group_key", "created_at"
        )
    )
    shared_since = _shared_device_groups_since(workspace, groups)
    result = {}
    for day in days:
        end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
        members: dict[str, int] = defaultdict(int)
        for email, first_seen, merged_at, suppressed_at in people:
            if (
                first_seen < end
                and (merged_at is None or merged_at >= end)
                and (suppressed_at is None or suppressed_at >= end)
            ):
                members[email] += 1
        groups = sum(
            1
            for email, count in members.items()
            if count > 1 and not (f"email:{email}" in dismissed and dismissed[f"email:{email}"] < end)
        )
        result[day] = groups + sum(1 for since in shared_since if since < end)
    return result


def _shared_device_groups_since(workspace: Workspace, groups: list[DuplicateGroup]) -> list[datetime]:
    groups = [group for group in groups if group.kind == "anonymous_id"]
    if not groups:
        return []
    first = dict(
        IdentityWarning.objects.filter(workspace_id=workspace.pk, kind=IdentityWarning.Kind.SHARED_DEVICE)
        .values("values__anonymous_id")
        .annotate(since=Min("created_at"))
        .values_list("values__anonymous_id", "since")
    )
    return [first[group.value] for group in groups if group.value in first]


# --- The health dashboard --------------------------------------------------------------------------


@dataclass(slots=True)
class Metric:
    """One headline number with its daily trend and its change against the previous period."""

    key: str
    title: str
    value: float | None
    previous: float | None
    unit: str  # "%" or "" (a count)
    better: str  # "up" or "down": which way of change is good news
    chart: str
    help: str
    overall: str = ""

    @property
    def display(self) -> str:
        return _display(self.value, self.unit)

    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def delta_display(self) -> str:
        delta = self.delta
        if delta is None:
            return "no previous period"
        if self.unit == "%":
            return f"{delta:+.1f} pts"
        if not self.previous:
            return f"{delta:+,.0f}"
        return f"{delta:+,.0f} ({delta / self.previous:+.0%})"

    @property
    def tone(self) -> str:
        delta = self.delta
        if not delta or abs(delta) < (0.5 if self.unit == "%" else 1):
            return "flat"
        return "good" if (delta > 0) == (self.better == "up") else "bad"


def _display(value: float | None, unit: str) -> str:
    if value is None:
        return NO_VALUE
    return f"{value:.1f}%" if unit == "%" else f"{value:,.0f}"


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


@dataclass(slots=True)
class VolumeRow:
    name: str
    by_source: dict[int, int]
    total: int
    spark: str
    color: str


@dataclass(slots=True)
class Volume:
    chart: str
    legend: list[tuple[str, str]]
    sources: list[Source]
    rows: list[VolumeRow]
    total: int


@dataclass(slots=True)
class DeliveryHealth:
    pending: int
    retrying: int
    sending: int
    oldest_pending_at: datetime | None
    delivered: int
    failed: int
    dead: int
    dry_run: int
    p50_ms: int | None
    p95_ms: int | None
    errors: list[Delivery]
    paused: bool
    dry_run_mode: bool

    @property
    def oldest_pending_seconds(self) -> float | None:
        return None if self.oldest_pending_at is None else (timezone.now() - self.oldest_pending_at).total_seconds()


@dataclass(slots=True)
class Ranked:
    label: str
    count: int
    share: float  # of the largest in its list, for the bar width


def _ranked(counts: dict[str, int], limit: int = 8) -> list[Ranked]:
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    largest = top[0][1] if top else 1
    return [Ranked(label, count, 100.0 * count / largest) for label, count in top]


@dataclass(slots=True)
class PlanHealth:
    """The tracking plan over the period: what it fixed, what broke it, what it held back."""

    events: int
    normalized: int
    violating: int
    held: int
    by_event: list[Ranked]
    by_property: list[Ranked]
    by_kind: list[Ranked]
    unplanned: list[Ranked]
    drift: list[PropertyDrift]
    chart: str

    @property
    def violating_share(self) -> float | None:
        return _share(self.violating, self.events)


@dataclass(slots=True)
class SegmentRow:
    key: str
    title: str
    definition: str
    expectation: str
    unit: str
    threshold: int | None
    count: int | None
    breached: bool
    first: int | None  # the period's first daily peak, for the change
    spark: str
    taken_at: datetime | None

    @property
    def expectation_label(self) -> str:
        label = self.expectation.replace("_", " ")
        if self.expectation == Expectation.BOUNDED and self.threshold is not None:
            return f"bounded (≤ {self.threshold})"
        if self.expectation == Expectation.NEAR_ZERO and self.threshold is not None:
            return f"near zero (≤ {self.threshold})"
        return label

    @property
    def status(self) -> str:
        if self.count is None:
            return "waiting"
        if self.expectation == Expectation.INFORMATIONAL:
            return "info"
        return "breached" if self.breached else "ok"


@dataclass(slots=True)
class HealthOverview:
    workspace: Workspace
    days: int
    start: date
    end: date
    refreshed: WorkspaceHealth | None
    metrics: list[Metric]
    volume: Volume
    deliveries: DeliveryHealth
    rejected_total: int
    rejected_by_code: list[dict]
    rejected_recent: list[RejectedMessage]
    plan: PlanHealth
    segments: list[SegmentRow]


def health_overview(*, workspace: Workspace, days: int = DEFAULT_PERIOD, today: date | None = None) -> HealthOverview:
    """Everything the health dashboard shows for the last `days` days (today included)."""
    today = today or timezone.now().date()
    start, previous_start = today - timedelta(days=days - 1), today - timedelta(days=2 * days - 1)
    by_day = {
        row.day: row for row in DailyHealth.objects.filter(workspace=workspace, day__gte=previous_start, day__lte=today)
    }
    current = [start + timedelta(days=i) for i in range(days)]
    previous = [previous_start + timedelta(days=i) for i in range(days)]
    empty = DailyHealth(workspace=workspace)
    rows = [by_day.get(day, empty) for day in current]
    before = [by_day.get(day, empty) for day in previous]
    refreshed = WorkspaceHealth.objects.filter(workspace=workspace).first()
    rejected_by_code = list(
        RejectedMessage.objects.filter(workspace=workspace, received_at__gte=_midnight(start))
        .values("code")
        .annotate(count=Count("id"))
        .order_by("-count")[:6]
    )
    return HealthOverview(
        workspace=workspace,
        days=days,
        start=start,
        end=today,
        refreshed=refreshed,
        metrics=_metrics(current, rows, before, refreshed, by_day.get(start - timedelta(days=1))),
        volume=_volume(workspace, current),
        deliveries=_delivery_health(workspace, rows),
        rejected_total=sum(row.rejected_messages for row in rows),
        rejected_by_code=rejected_by_code,
        rejected_recent=list(
            RejectedMessage.objects.filter(workspace=workspace).select_related("source").order_by("-received_at")[:5]
        ),
        plan=_plan_health(workspace, current, rows),
        segments=segments_overview(workspace=workspace, start=start),
    )


def _plan_health(workspace: Workspace, days: list[date], rows: list[DailyHealth]) -> PlanHealth:
    merged: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for part, counts in (row.violations or {}).items():
            for label, count in counts.items():
                merged[part][label] += count
    return PlanHealth(
        events=sum(row.events for row in rows),
        normalized=sum(row.events_normalized for row in rows),
        violating=sum(row.events_violating for row in rows),
        held=sum(row.events_held for row in rows),
        by_event=_ranked(merged["by_event"]),
        by_property=_ranked(merged["by_property"]),
        by_kind=_ranked(merged["by_kind"]),
        unplanned=_ranked(merged["unplanned"]),
        drift=property_drift(workspace=workspace, since=_midnight(days[0])),
        chart=line_chart(
            [
                Point(
                    day_label(day),
                    row.events_violating,
                    f"{day_label(day)}: {row.events_violating} events broke the plan",
                )
                for day, row in zip(days, rows, strict=True)
            ],
            color=ROSE,
            label="events breaking the tracking plan per day",
            **METRIC_CHART,
        ),
    )


def segments_overview(*, workspace: Workspace, start: date) -> list[SegmentRow]:
    """S1 to S10 from their snapshots: the latest count and status, and a daily sparkline. Three queries."""
    latest_at = SegmentSnapshot.objects.filter(workspace=workspace).aggregate(latest=Max("taken_at"))["latest"]
    latest = {}
    if latest_at is not None:
        latest = {s.segment: s for s in SegmentSnapshot.objects.filter(workspace=workspace, taken_at=latest_at)}
    daily: dict[str, dict[date, int]] = defaultdict(dict)
    for key, day, peak in (
        SegmentSnapshot.objects.filter(workspace=workspace, taken_at__gte=_midnight(start))
        .annotate(day=TruncDate("taken_at"))
        .values("segment", "day")
        .annotate(peak=Max("count"))
        .values_list("segment", "day", "peak")
    ):
        daily[key][day] = peak
    rows = []
    for key, segment in SEGMENTS.items():
        snapshot = latest.get(key)
        series = [daily[key][day] for day in sorted(daily[key])]
        breached = bool(snapshot and snapshot.breached)
        rows.append(
            SegmentRow(
                key=key,
                title=segment.title,
                definition=segment.definition,
                expectation=segment.expectation,
                unit=segment.unit,
                threshold=snapshot.threshold if snapshot else segment.threshold,
                count=snapshot.count if snapshot else None,
                breached=breached,
                first=series[0] if series else None,
                spark=sparkline(series, color=ROSE if breached else INDIGO),
                taken_at=snapshot.taken_at if snapshot else None,
            )
        )
    return rows


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _metrics(
    days: list[date],
    rows: list[DailyHealth],
    before: list[DailyHealth],
    refreshed: WorkspaceHealth | None,
    day_before: DailyHealth | None,
) -> list[Metric]:
    labels = [day_label(day) for day in days]
    # No data at all before the period (a new workspace): nothing to compare with, rather than "+100%".
    if not any(row.events or row.anonymous_ids for row in before):
        before, day_before = [], None

    def total(items: Iterable[DailyHealth], name: str) -> int:
        return sum(getattr(item, name) for item in items)

    def rate_points(part: str, whole: str, noun: str) -> list[Point]:
        points = []
        for label, row in zip(labels, rows, strict=True):
            value = _share(getattr(row, part), getattr(row, whole))
            title = (
                f"{label}: no {noun}" if value is None else (f"{label}: {value:.1f}% of {getattr(row, whole):,} {noun}")
            )
            points.append(Point(label, value, title))
        return points

    def previous_rates(part: str, whole: str) -> list[float | None] | None:
        return [_share(getattr(row, part), getattr(row, whole)) for row in before] or None

    merge_rate = Metric(
        key="merge_rate",
        title="Merge rate",
        value=_share(total(rows, "anonymous_ids_identified"), total(rows, "anonymous_ids")),
        previous=_share(total(before, "anonymous_ids_identified"), total(before, "anonymous_ids")),
        unit="%",
        better="up",
        chart=line_chart(
            rate_points("anonymous_ids_identified", "anonymous_ids", "new anonymous ids"),
            unit="%",
            color=INDIGO,
            previous=previous_rates("anonymous_ids_identified", "anonymous_ids"),
            label="merge rate per day of first sight",
            **METRIC_CHART,
        ),
        help="Of the anonymous ids first seen each day, the share now attached to an identified person.",
    )
    if refreshed is not None:
        overall = _share(refreshed.anonymous_ids_identified, refreshed.anonymous_ids)
        merge_rate.overall = f"{_display(overall, '%')} of {refreshed.anonymous_ids:,} anonymous ids, all time"
    identified_share = Metric(
        key="identified_share",
        title="Identified events",
        value=_share(total(rows, "identified_events"), total(rows, "events")),
        previous=_share(total(before, "identified_events"), total(before, "events")),
        unit="%",
        better="up",
        chart=line_chart(
            rate_points("identified_events", "events", "events"),
            unit="%",
            color=TEAL,
            previous=previous_rates("identified_events", "events"),
            label="identified event share per day",
            **METRIC_CHART,
        ),
        help="Share of the period's events whose person is identified now: what flows can act on.",
    )
    unresolved_values = [row.events - row.identified_events for row in rows]
    unresolved = Metric(
        key="unresolved",
        title="Unresolved anonymous events",
        value=sum(unresolved_values),
        previous=sum(row.events - row.identified_events for row in before) if before else None,
        unit="",
        better="down",
        chart=line_chart(
            [
                Point(label, value, f"{label}: {value:,} events of still-anonymous people")
                for label, value in zip(labels, unresolved_values, strict=True)
            ],
            color=AMBER,
            previous=[row.events - row.identified_events for row in before] or None,
            label="unresolved anonymous events per day",
            **METRIC_CHART,
        ),
        help="Events whose person is still anonymous: browsing nobody can email yet.",
    )
    unresolved.overall = (
        f"{total(rows, 'anonymous_ids') - total(rows, 'anonymous_ids_identified'):,} new anonymous ids still unknown"
    )
    duplicates = Metric(
        key="duplicates",
        title="Duplicate profiles",
        value=refreshed.duplicate_groups if refreshed else None,
        previous=day_before.duplicate_groups if day_before else None,
        unit="",
        better="down",
        chart=line_chart(
            [
                Point(label, row.duplicate_groups if row.pk else None, f"{label}: {row.duplicate_groups} groups")
                for label, row in zip(labels, rows, strict=True)
            ],
            color=ROSE,
            label="duplicate-profile groups per day",
            **METRIC_CHART,
        ),
        help="Groups of live people sharing a normalized email or an anonymous id, waiting for review.",
    )
    return [merge_rate, identified_share, unresolved, duplicates]


def _volume(workspace: Workspace, days: list[date]) -> Volume:
    rows = list(
        EventVolume.objects.filter(workspace=workspace, day__gte=days[0], day__lte=days[-1])
        .values("day", "name", "type", "source_id")
        .annotate(events=Sum("events"))
        .order_by()
    )
    sources = list(Source.objects.filter(workspace=workspace).order_by("kind", "name"))
    index = {day: i for i, day in enumerate(days)}
    by_name: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    by_name_source: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        name = row["name"] or row["type"]
        by_name[name][index[row["day"]]] += row["events"]
        by_name_source[name][row["source_id"]] += row["events"]
    ranked = sorted(by_name, key=lambda name: -sum(by_name[name]))
    top, rest = ranked[: len(VOLUME_COLORS)], ranked[len(VOLUME_COLORS) :]
    series = [Series(name, color, by_name[name]) for name, color in zip(top, VOLUME_COLORS, strict=False)]
    if rest:
        other = [sum(by_name[name][i] for name in rest) for i in range(len(days))]
        series.append(Series(f"{len(rest)} others", OTHER_COLOR, other))
    colors = {s.name: s.color for s in series}
    return Volume(
        chart=stacked_bars([day_label(day) for day in days], series),
        legend=[(s.name, s.color) for s in series],
        sources=sources,
        rows=[
            VolumeRow(
                name=name,
                by_source=dict(by_name_source[name]),
                total=sum(by_name[name]),
                spark=sparkline(by_name[name], color=colors.get(name, SLATE)),
                color=colors.get(name, OTHER_COLOR),
            )
            for name in ranked
        ],
        total=sum(sum(values) for values in by_name.values()),
    )


def _delivery_health(workspace: Workspace, rows: list[DailyHealth]) -> DeliveryHealth:
    live = Delivery.objects.filter(workspace=workspace, state__in=Delivery.OPEN_STATES).aggregate(
        pending=Count("id", filter=Q(state=Delivery.State.PENDING)),
        retrying=Count("id", filter=Q(state=Delivery.State.PENDING, attempts__gt=0)),
        sending=Count("id", filter=Q(state=Delivery.State.SENDING)),
        oldest=Min("created_at", filter=Q(state=Delivery.State.PENDING)),
    )
    cumulative = [0] * len(LATENCY_BOUNDS_MS)
    for row in rows:
        for i, count in enumerate(row.latency_cumulative or []):
            cumulative[i] += count
    delivered = sum(row.deliveries_delivered for row in rows)
    return DeliveryHealth(
        pending=live["pending"],
        retrying=live["retrying"],
        sending=live["sending"],
        oldest_pending_at=live["oldest"],
        delivered=delivered,
        failed=sum(row.deliveries_failed for row in rows),
        dead=sum(row.deliveries_dead for row in rows),
        dry_run=sum(row.deliveries_dry_run for row in rows),
        p50_ms=latency_percentile(cumulative, delivered, 0.50),
        p95_ms=latency_percentile(cumulative, delivered, 0.95),
        errors=delivery_errors(workspace=workspace, limit=5),
        paused=workspace.forwarding_paused,
        dry_run_mode=workspace.forwarding_dry_run,
    )


def latency_percentile(cumulative: list[int], total: int, fraction: float) -> int | None:
    """The histogram bound (ms) under which `fraction` of the delivered operations arrived; None when
    nothing was delivered, and the last bound + 1 when the share lies in the open last bucket."""
    if not total:
        return None
    wanted = fraction * total
    for bound, count in zip(LATENCY_BOUNDS_MS, cumulative, strict=False):
        if count >= wanted:
            return bound
    return LATENCY_BOUNDS_MS[-1] + 1


def delivery_errors(*, workspace: Workspace, limit: int = 20, state: str = "") -> list[Delivery]:
    """The latest failed and dead deliveries, each with its attempts (newest first) and its cause."""
    states = [state] if state else [Delivery.State.FAILED, Delivery.State.DEAD]
    # One query per state, each the head of its (workspace, state, created_at) index: an IN over both
    # would sort every failed and dead row of the workspace to find the newest few.
    errors = [
        delivery
        for each in states
        for delivery in Delivery.objects.filter(workspace=workspace, state=each)
        .select_related("event", "merge")
        .order_by("-created_at", "-id")[:limit]
    ]
    errors = sorted(errors, key=lambda delivery: (delivery.created_at, delivery.pk), reverse=True)[:limit]
    prefetch_related_objects(errors, Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("-started_at")))
    return errors


# --- Duplicate review --------------------------------------------------------------------------------


@dataclass(slots=True)
class ReviewPerson:
    person: Person
    identities: dict[str, list[Identity]]


@dataclass(slots=True)
class ReviewGroup:
    group: DuplicateGroup
    why: str
    people: list[ReviewPerson]
    trait_keys: list[str]

    @property
    def suggested_survivor(self) -> Person:
        """The one with a customer id and the longest history: usually the right one to keep."""
        return min(
            (member.person for member in self.people),
            key=lambda person: (not person.customer_id, person.first_seen, person.pk),
        )


def duplicate_review(*, workspace: Workspace, limit: int = 50) -> tuple[list[ReviewGroup], int]:
    """The duplicate queue: at most `limit` groups side by side, and how many there are in all."""
    groups = duplicates_find(workspace=workspace)
    shown = groups[:limit]
    person_ids = {person.pk for group in shown for person in group.people}
    by_person: dict[int, dict[str, list[Identity]]] = defaultdict(lambda: defaultdict(list))
    for identity in Identity.objects.filter(person_id__in=person_ids).order_by("kind", "created_at"):
        by_person[identity.person_id][identity.kind].append(identity)
    review = []
    for group in shown:
        if group.kind == "email":
            emails = sorted({person.email for person in group.people})
            why = (
                f"The same email, {group.value}, on {len(group.people)} people with different customer ids"
                if len(emails) == 1
                else f"Emails that fold to {group.value} (dots and +tags ignored): {', '.join(emails)}"
            )
        else:
            why = (
                f"One browser (anonymous id {group.value}) identified as {len(group.people)} different people:"
                " a shared device, or one shopper with two accounts"
            )
        keys = sorted({key for person in group.people for key in person.traits})
        review.append(
            ReviewGroup(
                group=group,
                why=why,
                people=[ReviewPerson(person, dict(by_person[person.pk])) for person in group.people],
                trait_keys=keys,
            )
        )
    return review, len(groups)


def merges_recent(*, workspace: Workspace, limit: int = 10) -> list[Merge]:
    """The latest deliberate merges, with their Customer.io deliveries: what the review queue did."""
    return list(
        _with_attempts_for_merges(
            Merge.objects.filter(workspace=workspace, reason=Merge.Reason.MANUAL).select_related(
                "survivor", "merged_away", "actor"
            )
        ).order_by("-created_at", "-id")[:limit]
    )


# --- The customer timeline ---------------------------------------------------------------------------

KEY_PROPERTIES = (
    "order_id",
    "revenue",
    "value",
    "product_id",
    "sku",
    "quantity",
    "price",
    "currency",
    "cart_id",
    "collection_id",
    "category",
    "email",
    "path",
    "url",
)
KEY_TRAITS = ("email", "name", "first_name", "last_name", "plan")


def customer_find(*, workspace: Workspace, value: str) -> Person | None:
    """Support's one search box: an order id through the tracking plan's order ledger (one indexed
    query), else any identifier as identity resolution finds it (email, customer id, anonymous id,
    `seam_` reference, and its own fallback for orders the ledger never saw)."""
    value = value.strip()
    if not value:
        return None
    order = (
        OrderSeen.objects.filter(workspace=workspace, order_id=value)
        .values_list("server_event_id", "browser_event_id")
        .first()
    )
    if order is not None:
        event = Event.objects.filter(pk=order[0] or order[1]).select_related("workspace").first()
        person = event_person(event=event) if event is not None else None
        if person is not None:
            return person
    return person_get_by_any_identifier(workspace=workspace, value=value)


@dataclass(slots=True)
class PersonCard:
    person: Person
    identities: list[Identity]
    merges: list[Merge]  # into this person (directly or into one of its tombstones)
    splits: list[Split]
    warnings: list[IdentityWarning]
    historical: list[dict]  # identities that once belonged here and left with a split


def person_card(*, person: Person) -> PersonCard:
    """Who this person is: identifiers now and before, traits, merges and splits, warnings, suppression."""
    tombstone_ids = list(Person.objects.filter(merged_into=person).values_list("pk", flat=True))
    merges = list(
        Merge.objects.filter(survivor_id__in=[person.pk, *tombstone_ids])
        .select_related("merged_away", "actor", "event")
        .order_by("-created_at", "-id")
    )
    splits = list(
        Split.objects.filter(Q(person=person) | Q(new_person=person))
        .select_related("actor", "person", "new_person")
        .order_by("-created_at")
    )
    historical = [
        {**moved, "split": split}
        for split in splits
        if split.person_id == person.pk
        for moved in split.moved_identities
    ]
    return PersonCard(
        person=person,
        identities=list(Identity.objects.filter(person=person).order_by("kind", "created_at")),
        merges=merges,
        splits=splits,
        warnings=list(
            IdentityWarning.objects.filter(person=person).select_related("event").order_by("-created_at")[:20]
        ),
        historical=historical,
    )


@dataclass(slots=True)
class TimelineItem:
    """An event, or a merge or split, placed in one person's stream."""

    kind: str  # "event", "merge" or "split"
    at: datetime
    event: Event | None = None
    merge: Merge | None = None
    split: Split | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    warnings: list[IdentityWarning] = field(default_factory=list)

    @property
    def key_properties(self) -> list[tuple[str, object]]:
        if self.event is None:
            return []
        if self.event.type == Event.Type.IDENTIFY:
            return [(key, self.event.traits[key]) for key in KEY_TRAITS if key in self.event.traits]
        props = self.event.properties
        shown = [(key, props[key]) for key in KEY_PROPERTIES if key in props and not isinstance(props[key], dict)]
        if isinstance(props.get("items"), list):
            shown.append(("items", len(props["items"])))
        return shown[:5]

    @property
    def marks(self) -> list[tuple[str, str]]:
        """(label, tone) badges: what ingest, the tracking plan and resolution noticed about the event."""
        if self.event is None:
            return []
        marks = [(flag.replace("_", " "), "warn") for flag in self.event.flags or []]
        for name, tone in _plan_marks(self.event):
            marks.append((name, tone))
        marks += [(warning.get_kind_display().replace("_", " "), "warn") for warning in self.warnings]
        return marks

    @property
    def delivery_state(self) -> str:
        if not self.deliveries:
            return ""
        states = {delivery.state for delivery in self.deliveries}
        for state in ("dead", "failed", "sending", "pending", "dry_run", "delivered"):
            if state in states:
                return state
        return ""


def _plan_marks(event: Event) -> list[tuple[str, str]]:
    """Marks from the tracking plan's fields on an event (normalizations, violations, hold), read
    defensively: an event stored before the plan existed has none of them."""
    marks = []
    received_name = getattr(event, "received_name", "")
    if received_name:
        marks.append((f"renamed from {received_name}", "info"))
    for attribute, tone in (("normalizations", "info"), ("violations", "bad")):
        for item in getattr(event, attribute, None) or []:
            if isinstance(item, dict) and item.get("kind") == "event_alias":
                continue  # said by "renamed from" above
            marks.append((_plan_item_text(item), tone))
    hold = getattr(event, "hold", "")
    if hold:
        marks.append((f"{hold}: not forwarded", "bad" if hold in ("blocked", "duplicate") else "warn"))
    return marks


def _plan_item_text(item: object) -> str:
    """One normalization or violation as a reader says it: "missing price", "productId → product_id"."""
    if not isinstance(item, dict):
        return str(item)
    kind, prop = str(item.get("kind", "")), item.get("property", "")
    if kind == "missing_property":
        return f"missing {prop}"
    if kind == "wrong_type":
        return f"{prop}: {item.get('received')}, expected {item.get('expected')}"
    if kind == "value_not_allowed":
        return f"{prop} = {item.get('value')} not allowed"
    if kind == "unplanned_event":
        return "unplanned event"
    if kind == "more":
        return f"+{item.get('count')} more"
    if "from" in item and "to" in item:
        return f"{(prop + ' ') if prop and kind == 'coerced' else ''}{item['from']} → {item['to']}"
    return f"{kind.replace('_', ' ')} {prop}".strip()


@dataclass(slots=True)
class TimelinePage:
    items: list[TimelineItem]
    older: str  # the cursor (an event id) of the next page, or ""
    newer_exists: bool
    event_count: int  # events on this page


TIMELINE_PAGE_SIZE = 50


def person_timeline(*, person: Person, before: str = "", size: int = TIMELINE_PAGE_SIZE) -> TimelinePage:
    """One page of the person's merged stream, newest first: events (anonymous and known, through every
    identity it holds), the merges and splits that shaped it, and what reached Customer.io for each.

    Paged by cursor (the last event id shown), so a page costs the same at the 1st or the 1000th.
    """
    events = person_events(person=person).select_related("source")
    if before:
        anchor = Event.objects.filter(workspace_id=person.workspace_id, pk=before).values("timestamp", "pk").first()
        if anchor is not None:
            events = events.filter(
                Q(timestamp__lt=anchor["timestamp"]) | Q(timestamp=anchor["timestamp"], pk__lt=anchor["pk"])
            )
    page = list(events[: size + 1])
    has_more = len(page) > size
    page = page[:size]
    ids = [event.pk for event in page]
    deliveries: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in _with_attempts(Delivery.objects.filter(event_id__in=ids)):
        deliveries[delivery.event_id].append(delivery)
    warnings: dict[str, list[IdentityWarning]] = defaultdict(list)
    for warning in IdentityWarning.objects.filter(event_id__in=ids):
        warnings[warning.event_id].append(warning)
    items = [
        TimelineItem(
            "event", event.timestamp, event=event, deliveries=deliveries[event.pk], warnings=warnings[event.pk]
        )
        for event in page
    ]
    items += _changes_between(
        person,
        newest=None if not before else (page[0].timestamp if page else None),
        oldest=page[-1].timestamp if has_more and page else None,
    )
    items.sort(key=lambda item: (item.at, item.kind != "event"), reverse=True)
    return TimelinePage(
        items=items, older=page[-1].pk if has_more else "", newer_exists=bool(before), event_count=len(page)
    )


def _with_attempts(deliveries):
    return deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at"))
    ).order_by("id")


def _changes_between(person: Person, *, newest: datetime | None, oldest: datetime | None) -> list[TimelineItem]:
    """Merges and splits of the person within a page's time span, placed at the event that caused them."""
    tombstones = Person.objects.filter(merged_into=person).values("pk")
    merges = list(
        _with_attempts_for_merges(
            Merge.objects.filter(Q(survivor=person) | Q(survivor__in=tombstones)).select_related(
                "merged_away", "actor", "event"
            )
        )
    )
    splits = list(Split.objects.filter(Q(person=person) | Q(new_person=person)).select_related("actor", "new_person"))
    items = [
        TimelineItem(
            "merge",
            merge.event.timestamp if merge.event else merge.created_at,
            merge=merge,
            deliveries=list(merge.deliveries.all()),
        )
        for merge in merges
    ] + [TimelineItem("split", split.created_at, split=split) for split in splits]
    return [item for item in items if (newest is None or item.at <= newest) and (oldest is None or item.at >= oldest)]


def _with_attempts_for_merges(merges):
    return merges.prefetch_related(
        Prefetch(
            "deliveries",
            queryset=Delivery.objects.prefetch_related(
                Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at"))
            ).order_by("id"),
        )
    )


def event_detail(*, workspace: Workspace, event_id: str) -> Event | None:
    """One event with its source and its deliveries (and their attempts): the raw payload on demand."""
    return (
        Event.objects.filter(workspace=workspace, pk=event_id)
        .select_related("source")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=Delivery.objects.prefetch_related(
                    Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at"))
                ).order_by("id"),
            )
        )
        .first()
    )


def event_raw(event: Event) -> dict:
    """The event as stored, in Segment-spec field names: what support wants to read and copy."""
    return {
        "type": event.type,
        "event" if event.type == Event.Type.TRACK else "name": event.name,
        "userId": event.user_id,
        "anonymousId": event.anonymous_id,
        **({"previousId": event.previous_id} if event.previous_id else {}),
        **({"groupId": event.group_id} if event.group_id else {}),
        "messageId": event.message_id,
        "properties": event.properties,
        "traits": event.traits,
        "context": event.context,
        "integrations": event.integrations,
        "originalTimestamp": event.original_timestamp.isoformat() if event.original_timestamp else None,
        "sentAt": event.sent_at.isoformat() if event.sent_at else None,
        "receivedAt": event.received_at.isoformat(),
        "timestamp": event.timestamp.isoformat(),
        "seam": {"id": event.pk, "source": event.source.name, "flags": event.flags},
    }


# --- Audit and sources -------------------------------------------------------------------------------------


def audit_entries(*, workspace: Workspace, limit: int = 100) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(workspace=workspace).order_by("-created_at", "-id")[:limit])


def sources_for(*, workspace: Workspace) -> list[Source]:
    return list(Source.objects.filter(workspace=workspace).order_by("kind", "name"))
