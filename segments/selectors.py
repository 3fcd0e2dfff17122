"""Reads for the data-sanity segments: counts, members with paging, snapshots and breaches.

Every segment is a few SQL statements whatever the data size (no query per person), built with the
ORM so it runs on Postgres and SQLite. Events carry no person column (merges move identities, not
events): an event's person is found through its deciding identity, in SQL (see _with_person).
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Lower, Trim
from django.utils import timezone

from events.models import Event
from identities.models import Identity, IdentityWarning, Person
from segments.definitions import (
    CART_EVENT,
    CHECKOUT_EVENT,
    ORDER_EVENT,
    ORDERS_WINDOW,
    S1_WINDOW,
    S2_PURCHASE_WINDOW,
    S3_WINDOW,
    S6_WINDOW,
    S7_WINDOW,
    S8_WINDOW,
    S9_OLDEST,
    S9_YOUNGEST,
    SEGMENTS,
    Segment,
)
from segments.models import SegmentSettings, SegmentSnapshot
from tracking.models import OrderSeen, PlannedEvent, TrackingPlan
from tracking.selectors import PropertyDrift, property_drift
from workspaces.models import Workspace

DEFAULT_PER_PAGE = 50
ORDER_CONFIRMATION_DEFAULT_SECONDS = 900


class UnknownSegment(KeyError):
    """A segment key that is not S1 … S10."""


@dataclass(frozen=True, slots=True)
class SegmentPage:
    """One page of a segment's members: Person, Event, OrderSeen or PropertyDrift items, per the unit."""

    segment: Segment
    items: list
    count: int
    page: int
    per_page: int

    @property
    def unit(self) -> str:
        return self.segment.unit

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.count

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


@dataclass(frozen=True, slots=True)
class _Context:
    workspace: Workspace
    now: datetime
    settings: SegmentSettings

    @property
    def email_policy(self) -> bool:
        return self.workspace.identifier_policy == Workspace.IdentifierPolicy.EMAIL


def segment_settings_for(*, workspace: Workspace) -> SegmentSettings:
    """The workspace's segment settings, or the defaults (unsaved) when it has none."""
    return SegmentSettings.objects.filter(workspace=workspace).first() or SegmentSettings(workspace=workspace)


def segment_threshold(*, segment: Segment, settings: SegmentSettings) -> int | None:
    override = (settings.thresholds or {}).get(segment.key)
    return int(override) if isinstance(override, int | float) and not isinstance(override, bool) else segment.threshold


def segment_count(*, workspace: Workspace, key: str, now: datetime | None = None) -> int:
    """How many members segment `key` (S1 … S10) has at `now`."""
    members = _members(_context(workspace, now), _segment(key))
    return len(members) if isinstance(members, list) else members.count()


def segments_count_all(
    *, workspace: Workspace, now: datetime | None = None, settings: SegmentSettings | None = None
) -> dict[str, int]:
    """Every segment's count at `now`: a fixed number of queries (about two per segment)."""
    context = _context(workspace, now, settings)
    counts = {}
    for segment in SEGMENTS.values():
        members = _members(context, segment)
        counts[segment.key] = len(members) if isinstance(members, list) else members.count()
    return counts


def segment_members(
    *, workspace: Workspace, key: str, now: datetime | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> SegmentPage:
    """One page (from 1) of segment `key`'s members: people and orders by latest activity, events newest first."""
    segment = _segment(key)
    members = _members(_context(workspace, now), segment)
    page = max(1, page)
    start = (page - 1) * per_page
    if isinstance(members, list):
        return SegmentPage(segment, members[start : start + per_page], len(members), page, per_page)
    return SegmentPage(segment, list(members[start : start + per_page]), members.count(), page, per_page)


def segment_breaches(*, workspace: Workspace, since: datetime | None = None) -> QuerySet[SegmentSnapshot]:
    """Snapshots that broke their segment's expectation, newest first."""
    snapshots = SegmentSnapshot.objects.filter(workspace=workspace, breached=True)
    if since is not None:
        snapshots = snapshots.filter(taken_at__gte=since)
    return snapshots.order_by("-taken_at", "segment")


def segment_series(*, workspace: Workspace, key: str, since: datetime) -> list[SegmentSnapshot]:
    """A segment's snapshots since `since`, oldest first: its time series."""
    _segment(key)
    return list(
        SegmentSnapshot.objects.filter(workspace=workspace, segment=key, taken_at__gte=since).order_by("taken_at")
    )


def segments_latest(*, workspace: Workspace) -> dict[str, SegmentSnapshot]:
    """The latest snapshot of each segment (one query per segment, ten in all)."""
    latest = {}
    for key in SEGMENTS:
        snapshot = SegmentSnapshot.objects.filter(workspace=workspace, segment=key).order_by("-taken_at").first()
        if snapshot is not None:
            latest[key] = snapshot
    return latest


def segment_count_before(*, workspace: Workspace, key: str, moment: datetime) -> int | None:
    """The count of the latest snapshot of `key` taken at or before `moment`, if any."""
    snapshot = (
        SegmentSnapshot.objects.filter(workspace=workspace, segment=key, taken_at__lte=moment)
        .order_by("-taken_at")
        .first()
    )
    return None if snapshot is None else snapshot.count


def s6_by_event(*, workspace: Workspace, now: datetime | None = None) -> dict[str, int]:
    """S6 broken down by event name: how many of its events each planned event has. One query."""
    members = _s6(_context(workspace, now))
    rows = members.order_by().values("name").annotate(events=Count("pk")).values_list("name", "events")
    return dict(sorted(rows, key=lambda row: (-row[1], row[0])))


# --- the definitions (segments/definitions.py says what each means) --------------------------------


def _context(workspace: Workspace, now: datetime | None, settings: SegmentSettings | None = None) -> _Context:
    return _Context(workspace, now or timezone.now(), settings or segment_settings_for(workspace=workspace))


def _segment(key: str) -> Segment:
    try:
        return SEGMENTS[key]
    except KeyError:
        raise UnknownSegment(key) from None


def _members(context: _Context, segment: Segment) -> QuerySet | list:
    return _COMPUTE[segment.key](context)


def _live_people(context: _Context) -> QuerySet[Person]:
    return Person.objects.filter(
        workspace=context.workspace, merged_into=None, suppression=Person.Suppression.NONE
    ).order_by("-last_seen", "-pk")


def _tracks(context: _Context, names: list[str], since: datetime) -> QuerySet[Event]:
    """Track events of these names from `since` to now; blocked ones never reached anyone's journey."""
    return (
        Event.objects.filter(workspace=context.workspace, type=Event.Type.TRACK, name__in=names, timestamp__gte=since)
        .filter(timestamp__lte=context.now)
        .exclude(hold=Event.Hold.BLOCKED)
    )


def _live_owner(workspace: Workspace, kind: str, value) -> Subquery:
    """The live person owning identity (kind, value), as a scalar subquery."""
    identities = Identity.objects.filter(workspace=workspace, kind=kind, value=value)
    return Subquery(identities.annotate(live=Coalesce("person__merged_into_id", "person_id")).values("live")[:1])


def _with_person(context: _Context, events: QuerySet[Event]) -> QuerySet[Event]:
    """Annotate `person_ref`: the live person of each event's deciding identity (identities.selectors.
    event_deciding_key): its user id's (an email under the email policy), else its anonymous id's.
    Illegal ids never became identities, so they fall through on their own."""
    owners = [_live_owner(context.workspace, Identity.Kind.USER_ID, OuterRef("user_id"))]
    if context.email_policy:
        owners.append(_live_owner(context.workspace, Identity.Kind.EMAIL, Lower(Trim(OuterRef("user_id")))))
    owners.append(_live_owner(context.workspace, Identity.Kind.ANONYMOUS_ID, OuterRef("anonymous_id")))
    return events.annotate(person_ref=Coalesce(*owners, output_field=BigIntegerField()))


def _s1(context: _Context) -> QuerySet[Person]:
    carts = _with_person(context, _tracks(context, [CART_EVENT], context.now - S1_WINDOW))
    return _live_people(context).filter(pk__in=carts.values("person_ref"), email="")


def _abandon_audience(context: _Context) -> QuerySet:
    """person_ref of each person whose latest cart in the window has no order of theirs at or after it."""
    events = _with_person(context, _tracks(context, [CART_EVENT, ORDER_EVENT], context.now - S3_WINDOW))
    return (
        events.order_by()
        .values("person_ref")
        .annotate(
            last_cart=Max(Case(When(name=CART_EVENT, then=F("timestamp")))),
            last_order=Max(Case(When(name=ORDER_EVENT, then=F("timestamp")))),
        )
        .filter(last_cart__isnull=False)
        .filter(Q(last_order__isnull=True) | Q(last_order__lt=F("last_cart")))
        .values("person_ref")
    )


def _s3(context: _Context) -> QuerySet[Person]:
    return _live_people(context).filter(pk__in=_abandon_audience(context))


def _s2(context: _Context) -> QuerySet[Person]:
    orders = _tracks(context, [ORDER_EVENT], context.now - S2_PURCHASE_WINDOW)
    buyers = _with_person(context, orders).values("person_ref")
    # The order carried an anonymous id of theirs but was attributed (by its user id) to someone else.
    anonymous_owners = Identity.objects.filter(
        workspace=context.workspace,
        kind=Identity.Kind.ANONYMOUS_ID,
        value__in=orders.exclude(anonymous_id="").values("anonymous_id"),
    ).values(live=Coalesce("person__merged_into_id", "person_id"))
    buyer_emails = Person.objects.filter(pk__in=buyers).exclude(email_folded="").values("email_folded")
    return _s3(context).filter(Q(pk__in=buyers) | Q(pk__in=anonymous_owners) | Q(email_folded__in=buyer_emails))


def _s4(context: _Context) -> QuerySet[OrderSeen]:
    return (
        OrderSeen.objects.filter(workspace=context.workspace, last_seen_at__gte=context.now - ORDERS_WINDOW)
        .filter(Q(server_count__gt=1) | Q(browser_count__gt=1))
        .order_by("-last_seen_at", "-pk")
    )


def _s5(context: _Context) -> QuerySet[OrderSeen]:
    window_seconds = (
        TrackingPlan.objects.filter(workspace=context.workspace)
        .values_list("order_confirmation_window_seconds", flat=True)
        .first()
    )
    if window_seconds is None:
        window_seconds = ORDER_CONFIRMATION_DEFAULT_SECONDS
    if window_seconds == 0:
        return OrderSeen.objects.none()  # browser orders are the orders: nothing waits for a server
    window = timedelta(seconds=window_seconds)
    return (
        OrderSeen.objects.filter(
            workspace=context.workspace,
            browser_event__isnull=False,
            browser_seen_at__gte=context.now - ORDERS_WINDOW,
            browser_seen_at__lte=context.now - window,
        )
        .filter(Q(server_seen_at=None) | Q(server_seen_at__gt=F("browser_seen_at") + window))
        .order_by("-browser_seen_at", "-pk")
    )


def _s6(context: _Context) -> QuerySet[Event]:
    planned = PlannedEvent.objects.filter(plan__workspace=context.workspace).values("name")
    return (
        Event.objects.filter(
            workspace=context.workspace,
            type=Event.Type.TRACK,
            name__in=planned,
            timestamp__gte=context.now - S6_WINDOW,
            timestamp__lte=context.now,
        )
        .exclude(violations=[])
        .order_by("-timestamp", "-pk")
    )


def _s7(context: _Context) -> list[PropertyDrift]:
    drifts = property_drift(workspace=context.workspace, since=context.now - S7_WINDOW)
    return sorted(drifts, key=lambda drift: (-drift.last_seen_at.timestamp(), drift.event_name, drift.property))


def _s8(context: _Context) -> QuerySet[Event]:
    if context.workspace.environment != Workspace.Environment.PRODUCTION:
        return Event.objects.none()
    settings = context.settings
    condition = Q(pk__in=[])
    for environment in _lines(settings.non_production_environments):
        condition |= Q(context__environment__iexact=environment)
    hosts = _lines(settings.non_production_hostnames)
    if hosts:
        pattern = _hostname_pattern(hosts)
        condition |= Q(context__page__url__iregex=pattern) | Q(type=Event.Type.PAGE, properties__url__iregex=pattern)
    patterns = _lines(settings.test_email_patterns)
    if patterns:
        emails = Q(pk__in=[])
        test_people = Q(pk__in=[])
        for text in patterns:
            emails |= (
                Q(user_id__icontains=text)
                | Q(traits__email__icontains=text)
                | Q(properties__email__icontains=text)
                | Q(context__traits__email__icontains=text)
            )
            test_people |= Q(email__icontains=text)
        people = Person.objects.filter(test_people, workspace=context.workspace).values("pk")
        user_ids = Identity.objects.filter(
            workspace=context.workspace, kind=Identity.Kind.USER_ID, person__in=people
        ).values("value")
        anonymous_ids = Identity.objects.filter(
            workspace=context.workspace, kind=Identity.Kind.ANONYMOUS_ID, person__in=people
        ).values("value")
        condition |= emails | Q(user_id__in=user_ids) | (Q(user_id="") & Q(anonymous_id__in=anonymous_ids))
    return (
        Event.objects.filter(
            workspace=context.workspace, timestamp__gte=context.now - S8_WINDOW, timestamp__lte=context.now
        )
        .filter(condition)
        .order_by("-timestamp", "-pk")
    )


def _s9(context: _Context) -> QuerySet[Person]:
    carts = (
        Event.objects.filter(
            workspace=context.workspace,
            type=Event.Type.TRACK,
            name__in=[CART_EVENT, CHECKOUT_EVENT],
            timestamp__gte=context.now - S9_OLDEST,
        )
        .exclude(anonymous_id="")
        .exclude(hold=Event.Hold.BLOCKED)
        .values("anonymous_id")
    )
    owners = Identity.objects.filter(
        workspace=context.workspace, kind=Identity.Kind.ANONYMOUS_ID, value__in=carts
    ).values("person_id")
    return (
        _live_people(context)
        .filter(
            is_identified=False,
            first_seen__gte=context.now - S9_OLDEST,
            first_seen__lte=context.now - S9_YOUNGEST,
            pk__in=owners,
        )
        .order_by("first_seen", "pk")
    )


def _s10(context: _Context) -> QuerySet[Person]:
    many = (
        Identity.objects.filter(workspace=context.workspace, kind=Identity.Kind.ANONYMOUS_ID)
        .order_by()
        .values("person_id")
        .annotate(anonymous_ids=Count("pk"))
        .filter(anonymous_ids__gt=context.settings.max_anonymous_ids)
        .values("person_id")
    )
    return _live_people(context).filter(Q(pk__in=many) | Q(pk__in=_shared_device_people(context)))


def _shared_device_people(context: _Context) -> list[int]:
    """Identified live people sharing an anonymous id with another (identities' shared_device warnings).

    Three queries: the warnings' (anonymous id, claimer), the ids' owners, and who is live and identified.
    """
    claims: dict[str, set[int]] = defaultdict(set)
    for anonymous_id, person_id in (
        IdentityWarning.objects.filter(
            workspace=context.workspace, kind=IdentityWarning.Kind.SHARED_DEVICE, person__isnull=False
        )
        .annotate(anonymous_id=KT("values__anonymous_id"))
        .exclude(anonymous_id=None)
        .values_list("anonymous_id", Coalesce("person__merged_into_id", "person_id"))
    ):
        claims[anonymous_id].add(person_id)
    if not claims:
        return []
    for anonymous_id, owner_id in Identity.objects.filter(
        workspace=context.workspace, kind=Identity.Kind.ANONYMOUS_ID, value__in=list(claims)
    ).values_list("value", Coalesce("person__merged_into_id", "person_id")):
        claims[anonymous_id].add(owner_id)
    identified = set(
        Person.objects.filter(pk__in=set().union(*claims.values()), merged_into=None, is_identified=True).values_list(
            "pk", flat=True
        )
    )
    shared: set[int] = set()
    for members in claims.values():
        members &= identified
        if len(members) > 1:
            shared |= members
    return sorted(shared)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _hostname_pattern(hosts: list[str]) -> str:
    """A URL on one of these hosts or their subdomains, any scheme and port (POSIX and Python regex alike)."""
    alternatives = "|".join(re.escape(host.lower().strip(".")) for host in hosts)
    return rf"^[a-z][a-z0-9+.-]*://([^/?#]*@)?([^/?#:]*\.)?({alternatives})(:[0-9]+)?([/?#]|$)"


_COMPUTE: dict[str, object] = {
    "S1": _s1,
    "S2": _s2,
    "S3": _s3,
    "S4": _s4,
    "S5": _s5,
    "S6": _s6,
    "S7": _s7,
    "S8": _s8,
    "S9": _s9,
    "S10": _s10,
}
