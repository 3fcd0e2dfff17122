"""Writes for events: storing what ingest accepted, and what it rejected."""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from ulid import ULID

from events.ingest.batch import ReadMessages
from events.models import Event, RejectedMessage
from forwarding.planning import deliveries_nudge, deliveries_plan_events
from identities.services import identity_resolve_events
from lib.copy_insert import rows_insert
from lib.group_commit import GroupCommits
from lib.instances import instance_new
from privacy.screening import SUPPRESSED_CODE, SUPPRESSED_MESSAGE, messages_screen, suppression_screen
from tracking.plans import CompiledPlan
from tracking.services import tracking_events_stored, tracking_plan_apply
from workspaces.models import Source


@dataclass(frozen=True, slots=True)
class StoredEvents:
    stored: list[Event]  # new rows, in request order
    duplicates: int  # messages whose messageId this source had already sent


@dataclass(frozen=True, slots=True)
class Received:
    """One request's screened messages with the tracking plan applied: what events_store stores."""

    read: ReadMessages
    received_at: datetime
    plan: CompiledPlan | None


def event_store_batch(*, source: Source, read: ReadMessages, received_at: datetime) -> StoredEvents:
    """Store a request's accepted messages and rejected records in one transaction."""
    return events_store(source=source, received=[events_received(source=source, read=read, received_at=received_at)])[0]


def event_store_grouped(*, source: Source, read: ReadMessages, received_at: datetime) -> None:
    """As event_store_batch, in one transaction with the concurrent requests of the same source in this
    process (lib/group_commit.py): a group shares the statements, the commit and the forwarding nudge.

    Inside an open transaction (a test's, or ATOMIC_REQUESTS) nothing is grouped: a group's commit must be
    durable when it returns, and a caller's outer transaction would hold it back.
    """
    received = events_received(source=source, read=read, received_at=received_at)
    if settings.SEAM_INGEST_GROUP_MAX <= 1 or transaction.get_connection().in_atomic_block:
        events_store(source=source, received=[received])
        return
    _group_commits().submit(source.pk, (source, received))


@functools.cache
def _group_commits() -> GroupCommits[tuple[Source, Received]]:
    return GroupCommits(
        lambda group: events_store(source=group[0][0], received=[received for _, received in group]),
        max_items=settings.SEAM_INGEST_GROUP_MAX,
    )


def events_received(*, source: Source, read: ReadMessages, received_at: datetime) -> Received:
    """Screen a request's messages (identity hashes, IP addresses: privacy/screening.py) and apply the workspace's
    tracking plan to the accepted ones, in place, before any transaction: what events_store does with them may be
    tried twice (a group that failed is committed again alone)."""
    messages_screen(source=source, read=read)
    return Received(read, received_at, tracking_plan_apply(workspace=source.workspace, messages=read.accepted))


def events_store(*, source: Source, received: Sequence[Received]) -> list[StoredEvents]:
    """Store requests' accepted messages and rejected records in one transaction; one result per request.

    First the suppression list (privacy/screening.py), one query for all the requests: a message naming a
    deleted or suppressed person is not stored, only counted as a RejectedMessage without its payload.
    A messageId this source already sent stores nothing new: the unique constraint decides, so two
    concurrent requests carrying the same message store it once (ON CONFLICT DO NOTHING).
    After the insert, de-duplication holds what must not be forwarded (tracking/services.py).
    """
    screened = suppression_screen(workspace_id=source.workspace_id, requests=[part.read.accepted for part in received])
    candidates: dict[str, Event] = {}
    per_request: list[list[Event]] = []
    for part in screened:
        events = []
        for fields in part.kept:
            event_id = str(ULID())
            # No messageId: nothing to de-duplicate against, so the message gets one of its own.
            message_id = fields["message_id"] or f"seam-{event_id}"
            if message_id not in candidates:
                candidates[message_id] = event = instance_new(
                    Event,
                    {
                        **fields,
                        "message_id": message_id,
                        "id": event_id,
                        "workspace_id": source.workspace_id,
                        "source_id": source.pk,
                    },
                )
                events.append(event)
        per_request.append(events)
    rejected = [
        _rejected(
            source,
            part.received_at,
            code=rejection.code,
            message=rejection.message[:500],
            field=rejection.field,
            batch_index=rejection.index,
            payload=rejection.payload,
        )
        for part in received
        for rejection in part.read.rejected
    ] + [
        _rejected(source, part.received_at, code=SUPPRESSED_CODE, message=SUPPRESSED_MESSAGE, field=field, payload=None)
        for part, screen in zip(received, screened, strict=True)
        for field in screen.dropped
    ]
    events = list(candidates.values())
    with transaction.atomic():
        if rejected:
            RejectedMessage.objects.bulk_create(rejected)
        stored_ids = rows_insert(events, ignore_conflicts=True) if events else set()
        stored = [event for event in events if event.pk in stored_ids]
        if stored:
            plan = next((part.plan for part in received if part.plan is not None), None)
            tracking_events_stored(source=source, events=stored, plan=plan)
            # In the same transaction: an accepted event always has its person, a merge never commits
            # without the events that caused it, and what Customer.io must hear is in the outbox.
            people = identity_resolve_events(workspace=source.workspace, events=stored)
            if deliveries_plan_events(workspace=source.workspace, events=stored, people=people):
                deliveries_nudge(workspace_id=source.workspace_id)
    results = []
    for screen, events in zip(screened, per_request, strict=True):
        new = [event for event in events if event.pk in stored_ids]
        results.append(StoredEvents(stored=new, duplicates=len(screen.kept) - len(new)))
    return results


def _rejected(source: Source, received_at: datetime, **record) -> RejectedMessage:
    return RejectedMessage(workspace_id=source.workspace_id, source_id=source.pk, received_at=received_at, **record)
