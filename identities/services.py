"""Writes for identity resolution: resolving ingested events to people, merges, splits and duplicate review.

Locking: a resolution step locks every person it reads (select_for_update, in pk order, one
statement) and re-reads the identities it looked up, so a merge committed meanwhile is seen and the
step starts over. Each step runs in a savepoint: a unique-constraint loss (someone created the same
identity first) or a deadlock victim rolls back only that step, releases the step's locks and
retries, a bounded number of times (rule 9).
"""

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import or_

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from events.models import Event
from forwarding.planning import deliveries_nudge, deliveries_plan_merge
from identities.models import DuplicateDismissal, Identity, IdentityWarning, Merge, Person, Split
from identities.normalize import (
    IdentifierRules,
    email_fold,
    email_is_shaped,
    email_normalize,
    identifier_illegal_reason,
)
from identities.selectors import Key, event_deciding_key, identifier_rules_for
from lib.copy_insert import rows_insert
from lib.probes import rows_by_keys
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

RESOLVE_ATTEMPTS = 5
# Postgres: deadlock_detected, serialization_failure. A victim retries its step after a rollback.
RETRYABLE_SQLSTATES = ("40P01", "40001")
ANONYMOUS_TYPES = (Event.Type.TRACK, Event.Type.PAGE, Event.Type.SCREEN, Event.Type.GROUP)
# Set at ingest on a browser identify or alias whose user hash did not verify (identity verification).
UNVERIFIED_IDENTITY_FLAG = "identity_unverified"

USER_ID = Identity.Kind.USER_ID
ANONYMOUS_ID = Identity.Kind.ANONYMOUS_ID
EMAIL = Identity.Kind.EMAIL


class PersonChangeRefused(ValueError):
    """A deliberate merge or split that cannot be done as asked (e.g. a person into itself)."""


class _Stale(Exception):
    """What a step read changed before it could lock it; the step starts over."""


@dataclass(slots=True)
class _Batch:
    workspace: Workspace
    rules: IdentifierRules
    email_policy: bool
    warnings: list[IdentityWarning] = field(default_factory=list)


# --- Ingest --------------------------------------------------------------------------------------


def identity_resolve_events(*, workspace: Workspace, events: Sequence[Event]) -> dict[str, Person]:
    """Resolve freshly stored events to people, in the caller's transaction; returns event id → live person.

    identify and alias apply the identity rules one by one, in message order. Every other event only
    needs its deciding identity to exist: those are found in one query and the missing ones created
    in bulk, so an anonymous-only batch costs a fixed number of queries whatever its size. Events
    are never rewritten. Running the rules before the bulk step cannot change the outcome (the bulk
    step only creates what is missing) and lets a track that follows an identify go straight to
    the identified person instead of through a throwaway anonymous one.
    """
    if not events:
        return {}
    batch = _Batch(
        workspace=workspace,
        rules=identifier_rules_for(workspace=workspace),
        email_policy=workspace.identifier_policy == Workspace.IdentifierPolicy.EMAIL,
    )
    for event in events:
        if _is_unverified(event):
            # Identity verification (privacy/screening.py): a browser identify or alias that could not
            # prove its user id is kept, but merges nothing, changes no traits and claims no identity.
            values = {"user_id": event.user_id[:200], "source_id": event.source_id}
            _warn(batch, batch.warnings, IdentityWarning.Kind.UNVERIFIED_IDENTITY, values, event)
        elif event.type == Event.Type.IDENTIFY:
            _step_with_retry(batch, event, _identify_apply)
        elif event.type == Event.Type.ALIAS:
            _step_with_retry(batch, event, _alias_apply)

    deciding: dict[str, Key] = {}
    for event in events:
        key = event_deciding_key(event=event, rules=batch.rules, email_policy=batch.email_policy)
        if _is_unverified(event):
            key = _anonymous_key(batch, event, batch.warnings)  # the visitor's own anonymous person
        if event.type in ANONYMOUS_TYPES:
            _warn_illegal(batch, event, batch.warnings, fields=("user_id", "anonymous_id"))
        if key is not None:
            deciding[event.pk] = key
    owners, created = _ensure_identities(batch, events, deciding)
    if batch.warnings:
        IdentityWarning.objects.bulk_create(batch.warnings)
    # People created just now are as they were inserted; only those who existed are read (after the steps above).
    wanted = {owners[key] for key in deciding.values() if key in owners}
    people = {pk: created[pk] for pk in wanted & created.keys()}
    if wanted - people.keys():
        people.update(Person.objects.in_bulk(wanted - people.keys()))
    return {event_id: people[owners[key]] for event_id, key in deciding.items() if key in owners}


def _is_unverified(event: Event) -> bool:
    return event.type in (Event.Type.IDENTIFY, Event.Type.ALIAS) and UNVERIFIED_IDENTITY_FLAG in event.flags


def _ensure_identities(
    batch: _Batch, events: Sequence[Event], deciding: dict[str, Key]
) -> tuple[dict[Key, int], dict[int, Person]]:
    """Make sure each deciding identity has a person; move last_seen forward. A fixed number of queries.

    Returns each identity's owner (key → person id) and the people this call created (by id).
    """
    seen: dict[Key, tuple[datetime, datetime]] = {}
    for event in events:
        key = deciding.get(event.pk)
        if key is not None:
            first, last = seen.get(key, (event.timestamp, event.timestamp))
            seen[key] = (min(first, event.timestamp), max(last, event.timestamp))
    if not seen:
        return {}, {}
    owners = _identity_owners(batch.workspace, seen)
    missing = [key for key in seen if key not in owners]
    kept: dict[int, Person] = {}  # the people created here whose identity was not taken meanwhile
    if missing:
        created = [_person_for_key(batch.workspace, key, *seen[key]) for key in missing]
        rows_insert(created)  # COPY or one INSERT; each gets its id
        ours = dict(zip(missing, (person.pk for person in created), strict=True))
        # A concurrent request may claim the same id first: its person wins, ours is dropped.
        claimed = _identities_claim(batch.workspace, ours)
        owners.update({key: person_id for key, person_id in ours.items() if key in claimed})
        lost = [key for key in missing if key not in claimed]
        if lost:
            owners.update(_identity_owners(batch.workspace, lost))
            Person.objects.filter(pk__in=[ours[key] for key in lost]).delete()
        kept = {person.pk: person for key, person in zip(missing, created, strict=True) if key in claimed}
    existing: dict[int, datetime] = {}
    for key, (_, last) in seen.items():
        person_id = owners.get(key)
        if person_id is not None and person_id not in kept:
            existing[person_id] = max(last, existing.get(person_id, last))
    if existing:
        _step_with_retry(batch, None, lambda batch, event, warnings: _last_seen_advance(existing))
    return owners, kept


def _last_seen_advance(last_seen: dict[int, datetime]) -> None:
    """One UPDATE for the batch, touching only rows whose last_seen moves forward.

    Written as `UPDATE … FROM (VALUES …)`: the ORM's form (an OR of one condition per person and a
    CASE) took longer to compile than to run (bench/profile_ingest.py). The ids are also listed
    as such: on a table without statistics the planner joined the values to every person, one by
    one (12 ms for 20 people among 2,500); with `id IN (…)` only the batch's people reach the join,
    whatever the plan.
    """
    quote = connection.ops.quote_name
    table, pk_column, last_seen_column = (
        quote(name) for name in (Person._meta.db_table, Person._meta.pk.column, "last_seen")
    )
    ids = sorted(last_seen)
    params = [value for pk in ids for value in (pk, connection.ops.adapt_datetimefield_value(last_seen[pk]))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last_seen_column} = moved.column2 "  # noqa: S608 - quoted names and placeholders
            f"FROM (VALUES {', '.join(['(%s, %s)'] * len(ids))}) AS moved "
            f"WHERE {table}.{pk_column} = moved.column1 AND {table}.{last_seen_column} < moved.column2 "
            f"AND {table}.{pk_column} IN ({', '.join(['%s'] * len(ids))}) AND {table}.{quote('suppression')} = %s",
            [*params, *ids, Person.Suppression.NONE],
        )


def _identities_claim(workspace: Workspace, claims: dict[Key, int]) -> set[Key]:
    """Insert each key's identity for its person, skipping those another request inserted first; returns
    the keys this call inserted.

    `ON CONFLICT DO NOTHING RETURNING` answers in the insert itself, so only a lost race costs a look-up
    (bulk_create's ignore_conflicts says nothing of what it skipped). Either database: SQLite has both
    clauses since 3.35. 500 keys per statement keep within SQLite's 32,766 parameters.
    """
    quote = connection.ops.quote_name
    column = {
        name: quote(Identity._meta.get_field(name).column)
        for name in ("workspace", "kind", "value", "person", "created_at")  # the order of each row's values
    }
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    items = list(claims.items())
    claimed: set[Key] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            params = [
                value
                for (kind, identifier), person_id in chunk
                for value in (workspace.pk, kind, identifier, person_id, created_at)
            ]
            cursor.execute(
                f"INSERT INTO {quote(Identity._meta.db_table)} "  # noqa: S608 - quoted names and placeholders
                f"({', '.join(column.values())}) VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))} "
                f"ON CONFLICT DO NOTHING RETURNING {column['kind']}, {column['value']}",
                params,
            )
            claimed.update((kind, value) for kind, value in cursor.fetchall())
    return claimed


def _identity_owners(workspace: Workspace, keys: Iterable[Key]) -> dict[Key, int]:
    """(kind, value) → person id, for the keys that have an owner. On Postgres each key is one probe of the
    unique index, whatever the statistics (lib/probes.py)."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        rows = rows_by_keys(
            Identity, workspace_id=workspace.pk, key_columns=("kind", "value"), keys=keys, columns=("person_id",)
        )
    else:
        by_kind: dict[str, list[str]] = {}
        for kind, value in keys:
            by_kind.setdefault(kind, []).append(value)
        condition = reduce(or_, (Q(kind=kind, value__in=values) for kind, values in by_kind.items()))
        rows = Identity.objects.filter(workspace=workspace).filter(condition).values_list("kind", "value", "person_id")
    return {(kind, value): person_id for kind, value, person_id in rows}


def _person_for_key(workspace: Workspace, key: Key, first_seen: datetime, last_seen: datetime) -> Person:
    kind, value = key
    person = Person(workspace=workspace, first_seen=first_seen, last_seen=last_seen)
    if kind == USER_ID:
        person.customer_id = value
    elif kind == EMAIL:
        _email_set(person, value)
    person.is_identified = kind != ANONYMOUS_ID
    return person


Step = Callable[[_Batch, Event | None, list[IdentityWarning]], object]


def _step_with_retry(batch: _Batch, event: Event | None, step: Step) -> object:
    """Run one step in a savepoint; on a lost race roll it back (releasing its locks) and retry."""
    for attempt in range(1, RESOLVE_ATTEMPTS + 1):
        warnings: list[IdentityWarning] = []
        try:
            with transaction.atomic():
                result = step(batch, event, warnings)
        except (IntegrityError, _Stale):
            pass
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
        else:
            batch.warnings += warnings
            return result
        # The winner has usually committed by now; a short jittered pause keeps losers from colliding again.
        time.sleep(random.uniform(0, 0.005 * attempt))
    logger.warning("identity resolution gave up after %d attempts (event %s)", RESOLVE_ATTEMPTS, event and event.pk)
    batch.warnings.append(
        IdentityWarning(
            workspace=batch.workspace,
            kind=IdentityWarning.Kind.MERGE_RACE,
            values={"attempts": RESOLVE_ATTEMPTS, "user_id": event.user_id if event else ""},
            event=event,
        )
    )
    return None


# --- identify and alias, one message at a time -----------------------------------------------------


def _identify_apply(batch: _Batch, event: Event, warnings: list[IdentityWarning]) -> Person | None:
    """Rules 2 to 5 for one identify. Precondition: runs inside its own savepoint (see _step_with_retry)."""
    user = _user_key(batch, event, warnings)
    anonymous = _anonymous_key(batch, event, warnings)
    email = ""
    if user and user[0] == EMAIL:
        customer, email = None, user[1]  # email policy: the user id is the email
    else:
        customer = user
        email = _traits_email(batch, event, warnings)
    email_key = (EMAIL, email) if email else None
    keys = [key for key in (customer, email_key, anonymous) if key]
    if not keys:
        return None
    owners = _owners_locked(batch.workspace, keys)
    by_user = owners.get(customer) if customer else None
    by_email = owners.get(email_key) if email_key else None
    by_anonymous = owners.get(anonymous) if anonymous else None
    if _any_blocked(batch, event, warnings, owners.values()):
        return None

    if customer:
        if by_user:
            target = by_user
        elif by_email and not by_email.customer_id:
            target = by_email  # rule 3: the lead captured by email logs in
        elif by_anonymous and not by_anonymous.is_identified:
            target = by_anonymous  # the visitor becomes the customer: no merge needed
        else:
            target = _person_new(batch.workspace, event)
        if target is not by_user:
            _identity_claim(batch.workspace, target, customer)
            target.customer_id = target.customer_id or customer[1]
    elif email_key:
        strong = user is not None  # the email policy's user id, not just a trait
        if by_email:
            target = by_email
        elif by_anonymous and not by_anonymous.is_identified:
            target = by_anonymous
        elif by_anonymous and not by_anonymous.customer_id and not strong:
            target = by_anonymous  # a lead on this device gives another email (rule 4 for leads)
        else:
            target = _person_new(batch.workspace, event)
    else:
        target = by_anonymous or _person_new(batch.workspace, event)

    if email_key:
        if by_email is None:
            _identity_claim(batch.workspace, target, email_key)
        elif by_email.pk != target.pk:
            if by_email.customer_id and target.customer_id and by_email.customer_id != target.customer_id:
                # Rule 5: two customers, one email. Never merged automatically; duplicates_find shows them.
                _warn(
                    batch,
                    warnings,
                    IdentityWarning.Kind.EMAIL_CONFLICT,
                    {"email": email, "customer_ids": [target.customer_id, by_email.customer_id]},
                    event,
                    target,
                )
            else:
                _merge_locked(target, by_email, reason=Merge.Reason.EMAIL_MATCH, event=event)
        _email_set(target, email)

    if anonymous and (by_anonymous is None or by_anonymous.pk != target.pk):
        if by_anonymous is None:
            _identity_claim(batch.workspace, target, anonymous)
        elif not by_anonymous.is_identified:
            _merge_locked(target, by_anonymous, reason=Merge.Reason.IDENTIFY, event=event)
        else:
            # Rule 2: a shared device that was not reset at logout. Nothing merges.
            _warn(
                batch,
                warnings,
                IdentityWarning.Kind.SHARED_DEVICE,
                {
                    "anonymous_id": anonymous[1],
                    "owner_person_id": by_anonymous.pk,
                    "claimed_by": (customer or email_key or ("", ""))[1],
                },
                event,
                target,
            )

    if event.traits:
        target.traits = {**target.traits, **event.traits}
    _person_touch(target, event)
    return target


def _alias_apply(batch: _Batch, event: Event, warnings: list[IdentityWarning]) -> Person | None:
    """Rule 6: previousId's person merges into userId's, under rule 2 and 5's protections."""
    user = _user_key(batch, event, warnings)
    if user is None:
        return None
    previous = event.previous_id
    reason = identifier_illegal_reason(previous, rules=batch.rules)
    if reason:
        _warn(batch, warnings, IdentityWarning.Kind.ILLEGAL_ID, _illegal(previous, "previousId", reason), event)
    candidates: list[Key] = []
    if not reason:
        candidates = [(USER_ID, previous), (ANONYMOUS_ID, previous)]
        if batch.email_policy and email_is_shaped(previous):
            candidates.insert(1, (EMAIL, email_normalize(previous)))
    owners = _owners_locked(batch.workspace, [user, *candidates])
    if _any_blocked(batch, event, warnings, owners.values()):
        return None
    by_user = owners.get(user)
    by_previous = next((owners[key] for key in candidates if key in owners), None)

    if by_user is None:
        # The new id joins the previous id's person (an anonymous visitor, or a customer id changing).
        target = by_previous or _person_new(batch.workspace, event)
        _identity_claim(batch.workspace, target, user)
        _person_identify_by(target, user)
    else:
        target = by_user
    if candidates and by_previous is None:
        # Never seen: the previous id is taken to be the anonymous id the visitor browsed with.
        _identity_claim(batch.workspace, target, (ANONYMOUS_ID, previous))
    elif by_previous is not None and by_previous.pk != target.pk:
        if by_previous.customer_id and target.customer_id and by_previous.customer_id != target.customer_id:
            _warn(
                batch,
                warnings,
                IdentityWarning.Kind.REFUSED_MERGE_IDENTIFIED,
                {"previous_id": previous, "user_id": user[1], "customer_ids": [by_previous.customer_id]},
                event,
                target,
            )
        else:
            _merge_locked(target, by_previous, reason=Merge.Reason.ALIAS, event=event)
    _person_touch(target, event)
    return target


def _user_key(batch: _Batch, event: Event, warnings: list[IdentityWarning]) -> Key | None:
    if not _legal(batch, event, warnings, "user_id"):
        return None
    if batch.email_policy and email_is_shaped(event.user_id):
        return (EMAIL, email_normalize(event.user_id))
    return (USER_ID, event.user_id)


def _anonymous_key(batch: _Batch, event: Event, warnings: list[IdentityWarning]) -> Key | None:
    return (ANONYMOUS_ID, event.anonymous_id) if _legal(batch, event, warnings, "anonymous_id") else None


def _traits_email(batch: _Batch, event: Event, warnings: list[IdentityWarning]) -> str:
    raw = event.traits.get("email") if isinstance(event.traits, dict) else None
    if raw is None or raw == "":
        return ""
    text = raw if isinstance(raw, str) else repr(raw)
    reason = identifier_illegal_reason(text, rules=batch.rules)
    if reason is None and not email_is_shaped(text):
        reason = "not_an_email"
    if reason:
        _warn(batch, warnings, IdentityWarning.Kind.ILLEGAL_ID, _illegal(text, "traits.email", reason), event)
        return ""
    return email_normalize(text)


def _legal(batch: _Batch, event: Event, warnings: list[IdentityWarning], attribute: str) -> bool:
    value = getattr(event, attribute)
    if not value:
        return False
    reason = identifier_illegal_reason(value, rules=batch.rules)
    if reason:
        field_name = {"user_id": "userId", "anonymous_id": "anonymousId"}[attribute]
        _warn(batch, warnings, IdentityWarning.Kind.ILLEGAL_ID, _illegal(value, field_name, reason), event)
    return reason is None


def _warn_illegal(batch: _Batch, event: Event, warnings: list[IdentityWarning], *, fields: Iterable[str]) -> None:
    for attribute in fields:
        _legal(batch, event, warnings, attribute)


def _illegal(value: str, field_name: str, reason: str) -> dict:
    return {"field": field_name, "value": value[:200], "reason": reason}


def _warn(
    batch: _Batch,
    warnings: list[IdentityWarning],
    kind: str,
    values: dict,
    event: Event | None,
    person: Person | None = None,
) -> None:
    warnings.append(IdentityWarning(workspace=batch.workspace, kind=kind, values=values, event=event, person=person))


def _any_blocked(batch: _Batch, event: Event, warnings: list[IdentityWarning], people: Iterable[Person]) -> bool:
    """Rule 11: a suppressed or deleted person is never merged, extended or updated by ingest."""
    blocked = sorted({person.pk for person in people if person.is_blocked})
    if blocked:
        _warn(batch, warnings, IdentityWarning.Kind.BLOCKED_IDENTITY, {"person_ids": blocked}, event)
    return bool(blocked)


def _owners_locked(workspace: Workspace, keys: list[Key]) -> dict[Key, Person]:
    """The live owners of `keys`, locked in pk order. Raises _Stale if an identity moved meanwhile."""
    rows = _identity_owners(workspace, keys)
    if not rows:
        return {}
    people = {
        person.pk: person
        for person in Person.objects.select_for_update().filter(pk__in=set(rows.values())).order_by("pk")
    }
    # Merges tombstone a person and move its identities in one transaction: once we hold the lock,
    # either nothing moved, or we see a tombstone / a different owner and start over.
    if len(people) != len(set(rows.values())) or any(person.merged_into_id for person in people.values()):
        raise _Stale
    if _identity_owners(workspace, keys) != rows:
        raise _Stale
    return {key: people[person_id] for key, person_id in rows.items()}


def _person_new(workspace: Workspace, event: Event) -> Person:
    return Person.objects.create(workspace=workspace, first_seen=event.timestamp, last_seen=event.timestamp)


def _identity_claim(workspace: Workspace, person: Person, key: Key) -> None:
    # A twin inserted concurrently raises IntegrityError here: the step retries and finds it.
    Identity.objects.create(workspace=workspace, kind=key[0], value=key[1], person=person)


def _person_identify_by(person: Person, key: Key) -> None:
    kind, value = key
    if kind == USER_ID:
        # alias(previous customer id → new one) is a customer id change; the old id still finds them.
        person.customer_id = value
    elif kind == EMAIL:
        _email_set(person, value)


def _email_set(person: Person, email: str) -> None:
    person.email = email
    person.email_folded = email_fold(email)


def _person_touch(person: Person, event: Event) -> None:
    person.is_identified = bool(person.customer_id or person.email)
    person.first_seen = min(person.first_seen, event.timestamp)
    person.last_seen = max(person.last_seen, event.timestamp)
    person.save()


# --- Merge and split -----------------------------------------------------------------------------------


def person_merge(
    *,
    survivor: Person,
    merged_away: Person,
    reason: str = Merge.Reason.MANUAL,
    event: Event | None = None,
    actor: AbstractBaseUser | None = None,
) -> Merge:
    """Merge one live person into another, deliberately; audited, and recorded for forwarding.

    Any two live people may be merged this way, customer ids or not (rule 5's protection applies to
    automatic merges only). Costs one UPDATE of the merged-away person's identities, however long
    their history (rule 8).
    """
    if survivor.workspace_id != merged_away.workspace_id:
        raise PersonChangeRefused("people of different workspaces cannot be merged")
    if survivor.pk == merged_away.pk:
        raise PersonChangeRefused("a person cannot be merged into itself")
    with transaction.atomic():
        locked = {
            person.pk: person
            for person in Person.objects.select_for_update().filter(pk__in=[survivor.pk, merged_away.pk]).order_by("pk")
        }
        survivor, merged_away = locked[survivor.pk], locked[merged_away.pk]
        if not survivor.is_live or not merged_away.is_live:
            raise PersonChangeRefused("only live people can be merged; a merged-away person is a tombstone")
        if survivor.is_blocked or merged_away.is_blocked:
            raise PersonChangeRefused("a suppressed or deleted person cannot be merged")
        merge = _merge_locked(survivor, merged_away, reason=reason, event=event, actor=actor)
        survivor.save()
        return merge


def _merge_locked(
    survivor: Person,
    merged_away: Person,
    *,
    reason: str,
    event: Event | None = None,
    actor: AbstractBaseUser | None = None,
) -> Merge:
    """Precondition: both people are live and locked by this transaction. The caller saves the survivor."""
    moved = [
        {"kind": kind, "value": value}
        for kind, value in Identity.objects.filter(person=merged_away)
        .order_by("kind", "value")
        .values_list("kind", "value")
    ]
    Identity.objects.filter(person=merged_away).update(person=survivor)
    # Rule 10: no chains. Whoever was merged into the merged-away person now points at the survivor.
    Person.objects.filter(merged_into=merged_away).update(merged_into=survivor)
    merged_away.merged_into = survivor
    merged_away.merged_at = timezone.now()
    merged_away.save(update_fields=["merged_into", "merged_at"])

    survivor_customer_id = survivor.customer_id
    survivor.traits = {**merged_away.traits, **survivor.traits}
    survivor.customer_id = survivor.customer_id or merged_away.customer_id
    if not survivor.email and merged_away.email:
        _email_set(survivor, merged_away.email)
    survivor.is_identified = bool(survivor.customer_id or survivor.email)
    survivor.first_seen = min(survivor.first_seen, merged_away.first_seen)
    survivor.last_seen = max(survivor.last_seen, merged_away.last_seen)

    merge = Merge.objects.create(
        workspace_id=survivor.workspace_id,
        survivor=survivor,
        merged_away=merged_away,
        reason=reason,
        event=event,
        actor=actor,
        moved_identities=moved,
        survivor_customer_id=survivor_customer_id,
        merged_away_customer_id=merged_away.customer_id,
    )
    _change_recorded(merge)
    return merge


def person_split(*, person: Person, identities: Sequence[Identity], actor: AbstractBaseUser | None = None) -> Split:
    """Move chosen identities of a live person to a new person: the undo of an over-merge; audited.

    The person keeps the rest (at least one). Each side's customer id and email follow the
    identities: one whose current customer id or email moved takes another it still holds, or none.
    """
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if not person.is_live:
            raise PersonChangeRefused("a merged-away person has no identities to split off")
        if person.is_blocked:
            raise PersonChangeRefused("a suppressed or deleted person cannot be split")
        held = list(Identity.objects.select_for_update().filter(person=person).order_by("pk"))
        chosen_ids = {identity.pk for identity in identities}
        moving = [identity for identity in held if identity.pk in chosen_ids]
        staying = [identity for identity in held if identity.pk not in chosen_ids]
        if len(moving) != len(chosen_ids) or not moving:
            raise PersonChangeRefused("choose one or more identities that belong to this person")
        if not staying:
            raise PersonChangeRefused("a split must leave the person at least one identity")

        new_person = Person.objects.create(
            workspace_id=person.workspace_id, first_seen=person.first_seen, last_seen=person.last_seen
        )
        Identity.objects.filter(pk__in=[identity.pk for identity in moving]).update(person=new_person)
        for side, kept in ((person, staying), (new_person, moving)):
            user_ids = [identity.value for identity in kept if identity.kind == USER_ID]
            emails = [identity.value for identity in kept if identity.kind == EMAIL]
            side.customer_id = person.customer_id if person.customer_id in user_ids else (user_ids or [""])[-1]
            _email_set(side, person.email if person.email in emails else (emails or [""])[-1])
            side.is_identified = bool(side.customer_id or side.email)
        # Both lose nothing of their own but the identities; traits stay with the original person.
        person.save()
        new_person.save()
        split = Split.objects.create(
            workspace_id=person.workspace_id,
            person=person,
            new_person=new_person,
            moved_identities=[{"kind": identity.kind, "value": identity.value} for identity in moving],
            actor=actor,
        )
        _change_recorded(split)
        return split


def _change_recorded(record: Merge | Split) -> None:
    """Where the forwarding issue writes its Customer.io outbox row for a merge or split.

    Called inside the transaction that made the change, so the outbox row commits (or rolls back)
    with it: nothing forwarded that did not happen, nothing that happened left unforwarded.
    A split needs no Customer.io operation: the new person is identified on its next event.
    """
    if isinstance(record, Merge):
        deliveries_plan_merge(merge=record)
        deliveries_nudge(workspace_id=record.workspace_id)


# --- Duplicate review ------------------------------------------------------------------------------


def duplicate_group_merge(
    *, survivor: Person, people: Sequence[Person], actor: AbstractBaseUser | None = None
) -> list[Merge]:
    """Merge a reviewed duplicate group into the chosen survivor (a manual, audited merge)."""
    with transaction.atomic():
        return [
            person_merge(survivor=survivor, merged_away=person, reason=Merge.Reason.MANUAL, actor=actor)
            for person in sorted(people, key=lambda person: person.pk)
            if person.pk != survivor.pk
        ]


def duplicate_dismiss(
    *, workspace: Workspace, group_key: str, person_ids: Sequence[int], actor: AbstractBaseUser | None = None
) -> DuplicateDismissal:
    """Remember that a group is not a duplicate; it shows again only if a new person joins it."""
    dismissal, _ = DuplicateDismissal.objects.update_or_create(
        workspace=workspace,
        group_key=group_key,
        defaults={"person_ids": sorted(set(person_ids)), "actor": actor},
    )
    return dismissal
