"""Writes for events: storing what ingest accepted, and what it rejected."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from ulid import ULID

from events.ingest.batch import ReadMessages
from events.models import Event, RejectedMessage
from forwarding.planning import deliveries_nudge, deliveries_plan_events
from identities.services import identity_resolve_events
from lib.copy_insert import rows_insert
from lib.instances import instance_new
from tracking.services import tracking_events_stored, tracking_plan_apply
from workspaces.models import Source


@dataclass(frozen=True, slots=True)
class StoredEvents:
    stored: list[Event]  # new rows, in request order
    duplicates: int  # messages whose messageId this source had already sent


def event_store_batch(*, source: Source, read: ReadMessages, received_at: datetime) -> StoredEvents:
    """Store a request's accepted messages and rejected records in one transaction.

    A messageId this source already sent stores nothing new: the unique constraint decides, so two
    concurrent requests carrying the same message store it once (ON CONFLICT DO NOTHING).
    The workspace's tracking plan renames, normalizes and checks track events before the insert;
    after it, de-duplication holds what must not be forwarded (tracking/services.py).
    """
    plan = tracking_plan_apply(workspace=source.workspace, messages=read.accepted)
    candidates: dict[str, Event] = {}
    for fields in read.accepted:
        event_id = str(ULID())
        # No messageId: nothing to de-duplicate against, so the message gets one of its own.
        message_id = fields["message_id"] or f"seam-{event_id}"
        if message_id not in candidates:
            candidates[message_id] = instance_new(
                Event,
                {
                    **fields,
                    "message_id": message_id,
                    "id": event_id,
                    "workspace_id": source.workspace_id,
                    "source_id": source.pk,
                },
            )
    rejected = [
        RejectedMessage(
            workspace_id=source.workspace_id,
            source_id=source.pk,
            received_at=received_at,
            code=rejection.code,
            message=rejection.message[:500],
            field=rejection.field,
            batch_index=rejection.index,
            payload=rejection.payload,
        )
        for rejection in read.rejected
    ]
    events = list(candidates.values())
    with transaction.atomic():
        if rejected:
            RejectedMessage.objects.bulk_create(rejected)
        if not events:
            return StoredEvents(stored=[], duplicates=len(read.accepted))
        stored_ids = rows_insert(events, ignore_conflicts=True)
        stored = [event for event in events if event.pk in stored_ids]
        tracking_events_stored(source=source, events=stored, plan=plan)
        # In the same transaction: an accepted event always has its person, a merge never commits
        # without the events that caused it, and what Customer.io must hear is in the outbox.
        people = identity_resolve_events(workspace=source.workspace, events=stored)
        if deliveries_plan_events(workspace=source.workspace, events=stored, people=people):
            deliveries_nudge(workspace_id=source.workspace_id)
    return StoredEvents(stored=stored, duplicates=len(read.accepted) - len(stored))
