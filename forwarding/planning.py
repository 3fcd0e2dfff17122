"""Writing the outbox: what must reach Customer.io, decided in the transaction that caused it.

Each function here runs inside the caller's transaction (ingest, a merge, a deletion), so the
Delivery rows commit or roll back with the change: nothing acknowledged is left unforwarded, and
nothing rolled back is forwarded.
"""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from events.models import Event
from forwarding.identifiers import customer_path, lane_for, person_identifier
from forwarding.models import Delivery
from forwarding.payloads import (
    PayloadRefused,
    anonymous_event_body,
    event_op,
    identify_attributes,
    merge_op,
    person_op,
    unix_seconds,
)
from identities.models import Identity, Merge, Person
from lib.copy_insert import rows_insert
from lib.instances import instance_new
from workspaces.models import Workspace

FORWARDED_TYPES = (Event.Type.TRACK, Event.Type.PAGE, Event.Type.SCREEN)


def deliveries_plan_events(*, workspace: Workspace, events: Sequence[Event], people: dict[str, Person]) -> int:
    """Outbox rows for freshly stored events, given each event's live person (event id → person).

    A few queries per batch, whatever its size. group and alias send nothing themselves: an alias
    becomes a Merge, planned by deliveries_plan_merge.
    """
    identify_events = [event for event in events if event.type == Event.Type.IDENTIFY and event.pk in people]
    anonymous_owner = _anonymous_owners(workspace, identify_events)
    waits_for = _merged_away_lanes(identify_events)
    now = timezone.now()
    deliveries = []
    for event in events:
        person = people.get(event.pk)
        if person is None or event.type not in (*FORWARDED_TYPES, Event.Type.IDENTIFY):
            continue
        if event.hold:
            continue  # blocked by the tracking plan, a duplicate, a storm or an unconfirmed browser order
        identifier = person_identifier(person=person, policy=workspace.identifier_policy)
        if event.type == Event.Type.IDENTIFY:
            if identifier is None:
                continue  # traits of an anonymous person stay local: Customer.io cannot hold them
            carries = event.anonymous_id if anonymous_owner.get(event.anonymous_id) == person.pk else ""
            deliveries.append(
                _identify(workspace, person, identifier, event.traits, anonymous_id=carries, event=event, now=now)
            )
            deliveries[-1].after_lane = waits_for.get(event.pk, "")
        else:
            deliveries.append(_event(workspace, person, identifier, event, now))
    rows_insert(deliveries)
    return len(deliveries)


def deliveries_plan_merge(*, merge: Merge) -> None:
    """Tell Customer.io about a merge, after both people's earlier operations.

    An anonymous person merged into a known one: an identify carrying each absorbed anonymous id
    (Customer.io attaches that id's events). Two known people: an identify of the survivor (so the
    primary exists there) then a merge; Customer.io deletes the secondary.
    """
    survivor, merged_away = merge.survivor, merge.merged_away
    workspace = survivor.workspace
    policy = workspace.identifier_policy
    primary = person_identifier(person=survivor, policy=policy)
    if primary is None:
        return
    secondary = person_identifier(
        person=Person(customer_id=merge.merged_away_customer_id, email=merged_away.email), policy=policy
    )
    now = timezone.now()
    after = lane_for(merged_away.pk)
    if secondary is None:
        covered = _anonymous_id_carried_by_identify(merge)
        moved = [item["value"] for item in merge.moved_identities if item["kind"] == Identity.Kind.ANONYMOUS_ID]
        deliveries = [
            _identify(workspace, survivor, primary, {}, anonymous_id=value, merge=merge, now=now)
            for value in moved
            if value != covered
        ]
    else:
        deliveries = [
            _identify(workspace, survivor, primary, {}, merge=merge, now=now),
            _v2(workspace, survivor.pk, Delivery.Kind.MERGE, merge_op(primary, secondary), now, merge=merge),
        ]
    for delivery in deliveries:
        delivery.after_lane = after
    Delivery.objects.bulk_create(deliveries)


def deliveries_plan_person_removal(*, person: Person, identifier: tuple[str, str], action: str) -> Delivery:
    """`delete` or `suppress` the person in Customer.io: a barrier in the person's lane, so it goes
    after the person's operations already in flight. `identifier` is taken before the person's
    local data is erased (the caller's transaction erases it)."""
    kind = Delivery.Kind.DELETE if action == "delete" else Delivery.Kind.SUPPRESS
    delivery = _v2(person.workspace, person.pk, kind, person_op(action, identifier), timezone.now())
    delivery.save()
    return delivery


def deliveries_nudge(*, workspace_id: int) -> None:
    """Ask a worker to send soon, once the caller's transaction commits (a latency nudge only:
    the beat sweep finds every due delivery even if this message is lost)."""
    from forwarding.tasks import deliveries_nudge_now  # tasks import services; keep this module leaf

    transaction.on_commit(lambda: deliveries_nudge_now(workspace_id))


# --- building rows --------------------------------------------------------------------------------


def _identify(
    workspace: Workspace,
    person: Person,
    identifier: tuple[str, str],
    traits: dict,
    *,
    anonymous_id: str = "",
    event: Event | None = None,
    merge: Merge | None = None,
    now,
) -> Delivery:
    attributes, skipped = identify_attributes(traits)
    if person.email:
        attributes["email"] = person.email
    if person.customer_id:
        attributes["id" if workspace.identifier_policy == Workspace.IdentifierPolicy.ID else "customer_id"] = (
            person.customer_id
        )
    if anonymous_id:
        attributes["anonymous_id"] = anonymous_id
    if event is not None:
        attributes["_timestamp"] = unix_seconds(event.timestamp)  # orders rapid updates
    request = {"method": "PUT", "path": customer_path(identifier[1]), "body": attributes}
    if skipped:
        request["skipped_attributes"] = skipped
    return _delivery(workspace, person.pk, Delivery.Kind.IDENTIFY, request, now, event=event, merge=merge)


def _event(workspace: Workspace, person: Person, identifier: tuple[str, str] | None, event: Event, now) -> Delivery:
    try:
        if identifier is None:
            body = anonymous_event_body(event)
            request = {"method": "POST", "path": "/api/v1/events", "body": body}
            return _delivery(workspace, person.pk, Delivery.Kind.ANONYMOUS_EVENT, request, now, event=event)
        return _delivery(
            workspace, person.pk, Delivery.Kind.EVENT, {"op": event_op(event, identifier)}, now, event=event
        )
    except PayloadRefused as refused:
        kind = Delivery.Kind.EVENT if identifier else Delivery.Kind.ANONYMOUS_EVENT
        delivery = _delivery(workspace, person.pk, kind, {"refused": str(refused)}, now, event=event)
        delivery.state, delivery.last_error = Delivery.State.FAILED, str(refused)
        return delivery


def _v2(workspace: Workspace, person_id: int, kind: str, op: dict, now, merge: Merge | None = None) -> Delivery:
    return _delivery(workspace, person_id, kind, {"op": op}, now, merge=merge)


def _delivery(
    workspace: Workspace,
    person_id: int,
    kind: str,
    request: dict,
    now,
    *,
    event: Event | None = None,
    merge: Merge | None = None,
) -> Delivery:
    values = {
        "workspace_id": workspace.pk,
        "lane": lane_for(person_id),
        "kind": kind,
        "is_barrier": kind in Delivery.BARRIER_KINDS,
        "request": request,
        "next_attempt_at": now,
        "created_at": now,
        "event_id": event.pk if event is not None else None,
        "merge_id": merge.pk if merge is not None else None,
    }
    return instance_new(Delivery, values)


def _anonymous_owners(workspace: Workspace, identify_events: list[Event]) -> dict[str, int]:
    values = {event.anonymous_id for event in identify_events if event.anonymous_id}
    if not values:
        return {}
    return dict(
        Identity.objects.filter(workspace=workspace, kind=Identity.Kind.ANONYMOUS_ID, value__in=values).values_list(
            "value", "person_id"
        )
    )


def _merged_away_lanes(identify_events: list[Event]) -> dict[str, str]:
    """identify event id → the lane of the anonymous person it merged away (its events go first)."""
    if not identify_events:
        return {}
    merges = Merge.objects.filter(event__in=identify_events).values_list(
        "event_id", "merged_away_id", "moved_identities"
    )
    lanes = {}
    by_id = {event.pk: event for event in identify_events}
    for event_id, merged_away_id, moved in merges:
        anonymous_id = by_id[event_id].anonymous_id
        if any(item == {"kind": Identity.Kind.ANONYMOUS_ID, "value": anonymous_id} for item in moved):
            lanes[event_id] = lane_for(merged_away_id)
    return lanes


def _anonymous_id_carried_by_identify(merge: Merge) -> str:
    """The anonymous id the causing identify event will carry itself (so the merge need not)."""
    event = merge.event
    return event.anonymous_id if event is not None and event.type == Event.Type.IDENTIFY else ""
