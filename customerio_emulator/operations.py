"""What each Track API call does to a workspace: identify, events, merge, suppress, devices.

These are the emulator's services: v1 and v2 handlers both validate with `contract` and then call one function
here. Every function requires the caller to hold `Store.lock` for the workspace it is given.

When Customer.io would quietly do nothing (a suppressed identifier, a merge whose primary is missing, a
duplicate event id) the function still returns normally, because the real API answers 200, and leaves a
`Note` so tests can see why nothing changed.
"""

from .contract import (
    ContractError,
    DeviceRequest,
    EventRequest,
    Identifier,
    IdentifyRequest,
    MergeRequest,
)
from .state import ANONYMOUS_RETENTION_SECONDS, AnonymousEvent, AnonymousLink, Event, Person, Workspace

# Contract "How Customer.io merges": events for an anonymous id arriving up to 5 minutes after the identify
# are still attached to the person; later ones are not.
LATE_ANONYMOUS_WINDOW_SECONDS = 5 * 60


def _is_blank(value: object) -> bool:
    return value is None or value == ""


def _suppressed(ws: Workspace, identifiers: list[Identifier], *, action: str, now: float) -> bool:
    # Contract: suppress "blocks its identifiers (later calls ignored)".
    blocked = [str(identifier) for identifier in identifiers if ws.is_suppressed(identifier)]
    if blocked:
        ws.note("ignored_suppressed", now, action=action, identifiers=blocked)
    return bool(blocked)


def _resolve_or_create(ws: Workspace, target: Identifier, *, action: str, now: float) -> Person | None:
    """The person at `target`, created if unknown; "delete removes the person, any later call re-creates"."""
    person = ws.find(target)
    if person is not None:
        return person
    if target.kind == "cio_id":
        # A cio_id is assigned by Customer.io, so an unknown one cannot be created from outside.
        ws.note(f"{action}_ignored_unknown_cio_id", now, identifier=str(target))
        return None
    if target.kind == "id":
        return ws.create_person(now=now, person_id=target.value)
    return ws.create_person(now=now, email=target.value)


def _is_duplicate(ws: Workspace, event_id: str | None, *, now: float) -> bool:
    # Contract "Event body": an event whose id was already received is ignored. The answer is still 200.
    if event_id is None:
        return False
    if event_id in ws.seen_event_ids:
        ws.duplicates_ignored += 1
        ws.note("duplicate_event_ignored", now, event_id=event_id)
        return True
    ws.seen_event_ids.add(event_id)
    return False


def _new_event(request: EventRequest, *, now: float) -> Event:
    # An absent timestamp means "receive time" (contract "Event body").
    timestamp = request.timestamp if request.timestamp is not None else int(now)
    return Event(
        name=request.name,
        type=request.type,
        id=request.id,
        timestamp=timestamp,
        data=request.data,
        received_at=now,
    )


def person_identify(ws: Workspace, *, target: Identifier, request: IdentifyRequest, now: float) -> None:
    """Create or update the person at `target` (v1 `PUT /customers/{identifier}`, v2 `identify`).

    Raises `ContractError` only for `_update: true` with no matching person: the contract says "fail if no
    match", and the emulator answers that with a 400 (documented error status) rather than inventing a 404.
    """
    body_identifiers = [Identifier("id", request.id)] if request.id else []
    if request.email:
        body_identifiers.append(Identifier("email", request.email))
    if _suppressed(ws, [target, *body_identifiers], action="identify", now=now):
        return
    person = ws.find(target)
    if person is None and request.update_only:
        raise ContractError(
            f"no person matches '{target}' and _update is true", field="identifiers", reason="not_found"
        )
    if person is None and target.kind == "id" and request.email:
        # id+email workspaces: a new id that comes with an email already on a person (who has no id yet)
        # updates that person instead of creating a new one (contract "Identifiers").
        owner = ws.find(Identifier("email", request.email))
        if owner is not None and owner.id is None:
            ws.set_id(owner, target.value)
            person = owner
    if person is None:
        person = _resolve_or_create(ws, target, action="identify", now=now)
        if person is None:
            return
    elif target.kind == "id" and request.email:
        person = _auto_merge(ws, person, request.email, now=now)

    if request.timestamp is not None:
        # `_timestamp` orders rapid updates: an update older than the last applied one is dropped.
        if person.last_update_timestamp is not None and request.timestamp < person.last_update_timestamp:
            ws.note(
                "identify_ignored_out_of_order",
                now,
                cio_id=person.cio_id,
                _timestamp=request.timestamp,
                last_applied=person.last_update_timestamp,
            )
            return
        person.last_update_timestamp = request.timestamp

    _update_identifiers(ws, person, target, request, now=now)
    for name, value in request.attributes.items():
        # An empty value removes the attribute, which is what "unset or empty" means in merges.
        if _is_blank(value):
            person.attributes.pop(name, None)
        else:
            person.attributes[name] = value
    if request.relationships is not None:
        person.relationships = request.relationships
    if request.subscription_preferences is not None:
        person.subscription_preferences = request.subscription_preferences
    person.updated_at = now
    if request.anonymous_id:
        _attach_anonymous(ws, person, request.anonymous_id, now=now)


def _update_identifiers(
    ws: Workspace, person: Person, target: Identifier, request: IdentifyRequest, *, now: float
) -> None:
    """Apply body `id`/`email`. Changing a set id needs a cio_ path; email may also change by id.

    A refused change still answers 200, as Customer.io logs an "attribute update failure" (contract).
    """
    if request.id is not None and request.id != person.id:
        owner = ws.by_id.get(request.id)
        if owner is not None and owner != person.cio_id:
            ws.note(
                "attribute_update_failure",
                now,
                cio_id=person.cio_id,
                field="id",
                reason="id belongs to another person",
                value=request.id,
            )
        elif person.id is not None and target.kind != "cio_id":
            ws.note(
                "attribute_update_failure",
                now,
                cio_id=person.cio_id,
                field="id",
                reason="changing id requires a cio_ identifier",
                value=request.id,
            )
        else:
            ws.set_id(person, request.id)
    if request.email is not None and request.email != person.email:
        owner = ws.by_email.get(request.email.lower())
        if owner is not None and owner != person.cio_id:
            ws.note(
                "attribute_update_failure",
                now,
                cio_id=person.cio_id,
                field="email",
                reason="email belongs to another person",
                value=request.email,
            )
        elif person.email is not None and target.kind == "email":
            ws.note(
                "attribute_update_failure",
                now,
                cio_id=person.cio_id,
                field="email",
                reason="changing email requires an id or cio_ identifier",
                value=request.email,
            )
        else:
            ws.set_email(person, request.email)


def _auto_merge(ws: Workspace, person: Person, email: str, *, now: float) -> Person:
    """Automatic merge (id+email workspaces): id matches one person without email, email another without id.

    The older profile becomes primary (contract "How Customer.io merges").
    """
    other = ws.find(Identifier("email", email))
    if other is None or other is person or person.email is not None or other.id is not None:
        return person
    primary, secondary = sorted((person, other), key=lambda p: (p.created_at, p.cio_id))
    secondary_id = secondary.id
    _merge_into(ws, primary, secondary, now=now)
    ws.note("automatic_merge", now, primary=primary.cio_id, secondary=secondary.cio_id)
    if primary.id is None and secondary_id is not None:
        ws.set_id(primary, secondary_id)
    return primary


def _attach_anonymous(ws: Workspace, person: Person, anonymous_id: str, *, now: float) -> None:
    """Attach the anonymous id's events from the last 30 days and remember the mapping with its time.

    An anonymous id "must be unique and is not reusable": once linked to a living person, an identify of a
    different person with it is refused (noted). The same person identifying again re-attaches whatever is
    still anonymous, late events included, and restarts the 5-minute window.
    """
    link = ws.anonymous_links.get(anonymous_id)
    if link is not None and link.cio_id != person.cio_id and link.cio_id in ws.people:
        ws.note(
            "anonymous_id_already_linked",
            now,
            anonymous_id=anonymous_id,
            linked_cio_id=link.cio_id,
            refused_cio_id=person.cio_id,
        )
        return
    ws.anonymous_links[anonymous_id] = AnonymousLink(cio_id=person.cio_id, linked_at=now)
    if anonymous_id not in person.anonymous_ids:
        person.anonymous_ids.append(anonymous_id)
    ws.prune_anonymous(now)
    for item in ws.anonymous_events.pop(anonymous_id, []):
        item.event.anonymous_id = anonymous_id
        person.events.append(item.event)


def person_delete(ws: Workspace, *, target: Identifier, now: float) -> None:
    """Remove the person; a later call for the same identifier re-creates them (contract)."""
    person = ws.find(target)
    if person is None:
        ws.note("delete_ignored_unknown_person", now, identifier=str(target))
        return
    ws.remove_person(person)


def person_suppress(ws: Workspace, *, target: Identifier, now: float) -> None:
    """Delete the profile and block every identifier it had, plus the one used to address it."""
    person = ws.find(target)
    identifiers = [target, *(person.identifiers if person is not None else [])]
    ws.suppress(identifiers)
    if person is not None:
        ws.remove_person(person)
    ws.note(
        "suppressed",
        now,
        identifiers=sorted({str(identifier) for identifier in identifiers}),
        deleted_cio_id=person.cio_id if person is not None else None,
    )


def person_unsuppress(ws: Workspace, *, target: Identifier, now: float) -> None:
    """Free the identifier (and the others suppressed with it); the deleted profile does not come back."""
    freed = ws.unsuppress(target)
    if not freed:
        ws.note("unsuppress_ignored_not_suppressed", now, identifier=str(target))
        return
    ws.note("unsuppressed", now, identifiers=[f"{kind}:{value}" for kind, value in freed])


def event_track(ws: Workspace, *, target: Identifier, request: EventRequest, now: float) -> None:
    """Record an event, page or screen on the person at `target`, creating them if unknown."""
    if _suppressed(ws, [target], action="event", now=now):
        return
    person = _resolve_or_create(ws, target, action="event", now=now)
    if person is None or _is_duplicate(ws, request.id, now=now):
        return
    person.events.append(_new_event(request, now=now))
    person.updated_at = now
    ws.events_accepted += 1


def event_track_anonymous(
    ws: Workspace,
    *,
    anonymous_id: str | None,
    request: EventRequest,
    now: float,
) -> None:
    """Record an anonymous event (v1 `POST /api/v1/events`).

    Without an anonymous_id the event is kept but can never be attached (Customer.io uses those for sends to
    a `data.recipient`). With one already linked by an identify, it goes to the person if it arrived within
    5 minutes of that identify; otherwise it stays anonymous and is marked late.
    """
    if _is_duplicate(ws, request.id, now=now):
        return
    event = _new_event(request, now=now)
    ws.events_accepted += 1
    link = ws.anonymous_links.get(anonymous_id) if anonymous_id else None
    person = ws.people.get(link.cio_id) if link is not None else None
    if link is not None and person is not None and now - link.linked_at <= LATE_ANONYMOUS_WINDOW_SECONDS:
        event.anonymous_id = anonymous_id
        person.events.append(event)
        person.updated_at = now
        return
    late = link is not None and person is not None
    if late:
        ws.note(
            "anonymous_event_late",
            now,
            anonymous_id=anonymous_id,
            linked_cio_id=link.cio_id,
            seconds_after_identify=round(now - link.linked_at, 3),
        )
    event.anonymous_id = anonymous_id
    ws.anonymous_events.setdefault(anonymous_id, []).append(
        AnonymousEvent(event=event, late=late, linked_cio_id=link.cio_id if late else None)
    )


def person_merge(ws: Workspace, *, request: MergeRequest, now: float) -> None:
    """Fold the secondary into the primary (v1 `merge_customers`, v2 `merge`).

    The primary must already exist, else nothing happens (contract: "beware a race with an identify sent just
    before"); that case is noted as `merge_ignored_primary_missing`.
    """
    if _suppressed(ws, [request.primary, request.secondary], action="merge", now=now):
        return
    primary = ws.find(request.primary)
    if primary is None:
        ws.note(
            "merge_ignored_primary_missing",
            now,
            primary=str(request.primary),
            secondary=str(request.secondary),
        )
        return
    secondary = ws.find(request.secondary)
    if secondary is None:
        ws.note(
            "merge_ignored_secondary_missing",
            now,
            primary=str(request.primary),
            secondary=str(request.secondary),
        )
        return
    if secondary is primary:
        ws.note("merge_ignored_same_person", now, cio_id=primary.cio_id)
        return
    _merge_into(ws, primary, secondary, now=now)
    ws.note("merged", now, primary=primary.cio_id, secondary=secondary.cio_id)


def _merge_into(ws: Workspace, primary: Person, secondary: Person, *, now: float) -> None:
    """Move the secondary's data onto the primary and delete the secondary permanently.

    Attributes fill only the primary's unset or empty ones; events from the last 30 days move (marked
    `merged_from`); devices and anonymous ids move. The secondary's id/email do not become aliases: the
    contract says that is undocumented, assume not.
    """
    for name, value in secondary.attributes.items():
        if _is_blank(primary.attributes.get(name)):
            primary.attributes[name] = value
    cutoff = now - ANONYMOUS_RETENTION_SECONDS
    for event in secondary.events:
        if event.timestamp >= cutoff:
            event.merged_from = secondary.cio_id
            primary.events.append(event)
    for device_id, device in secondary.devices.items():
        primary.devices.setdefault(device_id, device)
    for anonymous_id in secondary.anonymous_ids:
        if anonymous_id not in primary.anonymous_ids:
            primary.anonymous_ids.append(anonymous_id)
        link = ws.anonymous_links.get(anonymous_id)
        if link is not None and link.cio_id == secondary.cio_id:
            link.cio_id = primary.cio_id
    primary.updated_at = now
    ws.remove_person(secondary)


def device_add(ws: Workspace, *, target: Identifier, device: DeviceRequest, now: float) -> None:
    """Add or update a device on the person at `target`, creating the person if unknown."""
    if _suppressed(ws, [target], action="add_device", now=now):
        return
    person = _resolve_or_create(ws, target, action="add_device", now=now)
    if person is None:
        return
    person.devices[device.id] = {
        "id": device.id,
        "platform": device.platform,
        "last_used": device.last_used,
        "attributes": device.attributes,
        "updated_at": now,
    }
    person.updated_at = now


def device_delete(ws: Workspace, *, target: Identifier, device_id: str, now: float) -> None:
    """Remove a device from the person at `target`; unknown person or device is a noted no-op."""
    if _suppressed(ws, [target], action="delete_device", now=now):
        return
    person = ws.find(target)
    if person is None or device_id not in person.devices:
        ws.note("delete_device_ignored_unknown", now, identifier=str(target), device_id=device_id)
        return
    del person.devices[device_id]
    person.updated_at = now
