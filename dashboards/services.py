"""Writes for the dashboards: the rollups the health page reads, and staff actions, each audited.

Staff actions call the owning app's service (identities, forwarding, workspaces) and write the audit
entry (`dashboards.audit.audit_record`) in the same transaction: an action that rolled back leaves no
entry, and none goes unrecorded.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from dashboards.audit import audit_record
from dashboards.models import LATENCY_BOUNDS_MS, AuditEntry, DailyHealth, EventVolume, WorkspaceHealth
from dashboards.selectors import (
    ROLLUP_DAYS,
    anonymous_ids_aggregate,
    deliveries_by_day_aggregate,
    duplicate_groups_by_day_aggregate,
    event_buckets_aggregate,
    rejected_by_day_aggregate,
    violations_by_day_aggregate,
)
from forwarding.models import Delivery
from forwarding.planning import deliveries_nudge
from forwarding.services import deliveries_replay
from identities.models import Identity, Merge, Person, Split
from identities.selectors import duplicates_find
from identities.services import duplicate_dismiss, duplicate_group_merge, person_split
from workspaces.models import Source, Workspace
from workspaces.services import source_issue_key, source_revoke_key

logger = logging.getLogger(__name__)


# --- Rollups -------------------------------------------------------------------------------------


def health_rollup_refresh(
    *, workspace: Workspace, now: datetime | None = None, days: int = ROLLUP_DAYS
) -> WorkspaceHealth:
    """Recompute the workspace's last `days` days of health figures and its all-time ones.

    Recent days are recomputed whole rather than incremented: whether an event's person is identified
    changes after the fact (the visitor logs in tomorrow), and a recompute is right by construction.
    The scans run outside any transaction; the swap of rows is one short transaction.
    """
    started = time.monotonic()
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    day_list = [first_day + timedelta(days=i) for i in range(days)]

    buckets = event_buckets_aggregate(workspace=workspace, start=start)
    anonymous = anonymous_ids_aggregate(workspace=workspace, start=start)
    anonymous_total, anonymous_identified_total = anonymous_ids_aggregate(workspace=workspace)[None]
    rejected = rejected_by_day_aggregate(workspace=workspace, start=start)
    deliveries = deliveries_by_day_aggregate(workspace=workspace, start=start)
    groups = duplicates_find(workspace=workspace)
    duplicates = duplicate_groups_by_day_aggregate(workspace=workspace, days=day_list, groups=groups)

    violations = violations_by_day_aggregate(workspace=workspace, start=start)

    totals = ("events", "identified", "normalized", "violating", "held")
    events: dict = defaultdict(lambda: dict.fromkeys(totals, 0))
    for bucket in buckets:
        for name in totals:
            events[bucket["day"]][name] += bucket[name]
    empty_deliveries = {"delivered": 0, "failed": 0, "dead": 0, "dry_run": 0, "latency_cumulative": []}
    daily = []
    for day in day_list:
        sent = deliveries.get(day, empty_deliveries)
        daily.append(
            DailyHealth(
                workspace=workspace,
                day=day,
                events=events[day]["events"],
                identified_events=events[day]["identified"],
                events_normalized=events[day]["normalized"],
                events_violating=events[day]["violating"],
                events_held=events[day]["held"],
                violations=violations.get(day, {}),
                anonymous_ids=anonymous.get(day, (0, 0))[0],
                anonymous_ids_identified=anonymous.get(day, (0, 0))[1],
                duplicate_groups=len(groups) if day == today else duplicates.get(day, 0),
                rejected_messages=rejected.get(day, 0),
                deliveries_delivered=sent["delivered"],
                deliveries_failed=sent["failed"],
                deliveries_dead=sent["dead"],
                deliveries_dry_run=sent["dry_run"],
                latency_cumulative=sent["latency_cumulative"] or [0] * len(LATENCY_BOUNDS_MS),
            )
        )
    volumes = [
        EventVolume(
            workspace=workspace,
            day=bucket["day"],
            source_id=bucket["source_id"],
            type=bucket["type"],
            name=bucket["name"],
            events=bucket["events"],
        )
        for bucket in buckets
    ]
    with transaction.atomic():
        WorkspaceHealth.objects.get_or_create(workspace=workspace, defaults={"refreshed_at": now})
        # Two refreshes of one workspace take turns here; the second simply writes the newer figures.
        health = WorkspaceHealth.objects.select_for_update().get(workspace=workspace)
        DailyHealth.objects.filter(workspace=workspace, day__gte=first_day).delete()
        DailyHealth.objects.bulk_create(daily)
        EventVolume.objects.filter(workspace=workspace, day__gte=first_day).delete()
        EventVolume.objects.bulk_create(volumes, batch_size=1000)
        health.refreshed_at = now
        health.refresh_ms = int((time.monotonic() - started) * 1000)
        health.anonymous_ids = anonymous_total
        health.anonymous_ids_identified = anonymous_identified_total
        health.duplicate_groups = len(groups)
        health.save()
    return health


def health_rollups_refresh_all() -> int:
    """Refresh every workspace's rollups (the beat task); one failing workspace does not stop the others."""
    refreshed = 0
    for workspace in Workspace.objects.order_by("pk"):
        try:
            health_rollup_refresh(workspace=workspace)
            refreshed += 1
        except Exception:
            logger.exception("health rollup of workspace %s failed", workspace.pk)
    return refreshed


# --- Audited staff actions -------------------------------------------------------------------------


def duplicate_review_merge(
    *, workspace: Workspace, survivor_id: int, person_ids: Sequence[int], actor: AbstractBaseUser
) -> list[Merge]:
    """Merge a reviewed group into the survivor the reviewer chose; audited, forwarded to Customer.io.

    Raises PersonChangeRefused (nothing changes) if anyone is no longer live or the survivor is not
    one of the group.
    """
    from identities.services import PersonChangeRefused

    ids = sorted(set(person_ids) | {survivor_id})
    people = {person.pk: person for person in Person.objects.filter(workspace=workspace, pk__in=ids)}
    if survivor_id not in people or len(people) != len(ids) or len(ids) < 2:
        raise PersonChangeRefused("choose a survivor among two or more people of this workspace")
    with transaction.atomic():
        merges = duplicate_group_merge(survivor=people[survivor_id], people=list(people.values()), actor=actor)
        audit_record(
            actor=actor,
            workspace=workspace,
            action=AuditEntry.Action.MERGE,
            target=f"{len(merges)} into {people[survivor_id]}",
            details={
                "survivor": survivor_id,
                "merged_away": [m.merged_away_id for m in merges],
                "merges": [m.pk for m in merges],
            },
        )
    return merges


def duplicate_review_dismiss(
    *, workspace: Workspace, group_key: str, person_ids: Sequence[int], actor: AbstractBaseUser
) -> None:
    """Mark a group "not a duplicate"; it comes back only if someone new joins it. Audited."""
    with transaction.atomic():
        duplicate_dismiss(workspace=workspace, group_key=group_key, person_ids=person_ids, actor=actor)
        audit_record(
            actor=actor,
            workspace=workspace,
            action=AuditEntry.Action.DISMISS,
            target=group_key,
            details={"person_ids": sorted(person_ids)},
        )


def person_review_split(*, person: Person, identity_ids: Sequence[int], actor: AbstractBaseUser) -> Split:
    """Move the chosen identities off a person onto a new one (the undo of a wrong merge). Audited."""
    identities = list(Identity.objects.filter(person=person, pk__in=identity_ids))
    with transaction.atomic():
        split = person_split(person=person, identities=identities, actor=actor)
        audit_record(
            actor=actor,
            workspace=person.workspace,
            action=AuditEntry.Action.SPLIT,
            target=f"{person} → person {split.new_person_id}",
            details={"split": split.pk, "moved": split.moved_identities},
        )
    return split


def delivery_review_replay(
    *, workspace: Workspace, actor: AbstractBaseUser, delivery_ids: Sequence[int] = (), state: str = ""
) -> int:
    """Send failed or dead deliveries again (chosen ones, or every one in `state`). Audited; returns how many."""
    if not delivery_ids and state not in (Delivery.State.FAILED, Delivery.State.DEAD, Delivery.State.DRY_RUN):
        return 0
    chosen = Delivery.objects.filter(workspace=workspace)
    chosen = chosen.filter(pk__in=list(delivery_ids)) if delivery_ids else chosen.filter(state=state)
    with transaction.atomic():
        count = deliveries_replay(deliveries=chosen)
        if count:
            audit_record(
                actor=actor,
                workspace=workspace,
                action=AuditEntry.Action.REPLAY,
                target=f"{count} deliveries" + (f" ({state})" if state else ""),
                details={"delivery_ids": sorted(delivery_ids), "state": state, "replayed": count},
            )
            deliveries_nudge(workspace_id=workspace.pk)
    return count


def source_review_issue_key(*, source: Source, actor: AbstractBaseUser) -> str:
    """A fresh write key for the source (the old one stops working at once); returns it, once. Audited."""
    with transaction.atomic():
        key = source_issue_key(source=source)
        audit_record(
            actor=actor,
            workspace=source.workspace,
            action=AuditEntry.Action.KEY_ISSUED,
            target=str(source),
            details={"source": source.pk, "hint": source.write_key_hint},
        )
    return key


def source_review_revoke_key(*, source: Source, actor: AbstractBaseUser) -> None:
    with transaction.atomic():
        source_revoke_key(source=source)
        audit_record(
            actor=actor,
            workspace=source.workspace,
            action=AuditEntry.Action.KEY_REVOKED,
            target=str(source),
            details={"source": source.pk, "hint": source.write_key_hint},
        )


def health_review_refresh(*, workspace: Workspace, actor: AbstractBaseUser) -> WorkspaceHealth:
    health = health_rollup_refresh(workspace=workspace)
    audit_record(
        actor=actor,
        workspace=workspace,
        action=AuditEntry.Action.ROLLUP_REFRESHED,
        target=str(workspace),
        details={"refresh_ms": health.refresh_ms},
    )
    return health
