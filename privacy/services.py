"""Writes for GDPR requests: deleting or suppressing a person, and dropping what ingest gets for them later.

What an erasure does locally is the same for `delete` and `suppress`; they differ only in what
Customer.io is asked to do (see Erasure.Action). Deleted, not anonymized: the person's own events
(its timeline), its identities, its traits, the identity warnings about it, the rejected messages
that carried its identifiers, and the bodies of its outbox rows. Anonymized, because they are other
people's records or audit evidence: other people's events that named one of its identifiers (that
field is blanked), merge and split records (they lose the identifier values they listed), the person
row itself (kept without customer id, email or traits, with `suppression` set) and its merged-away
tombstones. Its identifiers live on only as SHA-256 digests in the suppression list.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from events.models import Event, RejectedMessage
from forwarding.identifiers import lane_for, person_identifier
from forwarding.models import Delivery
from forwarding.planning import deliveries_nudge, deliveries_plan_person_removal
from identities.models import DuplicateDismissal, Identity, IdentityWarning, Merge, Person, Split
from identities.normalize import email_fold, email_normalize
from identities.selectors import person_events
from privacy.identifiers import identifier_digest
from privacy.models import Erasure, SuppressedIdentifier

ERASED_REQUEST = {"refused": "erased with the person (GDPR)"}  # "refused": the admin's replay skips it
SUPPRESSION_STATE = {
    Erasure.Action.DELETE: Person.Suppression.DELETED,
    Erasure.Action.SUPPRESS: Person.Suppression.SUPPRESSED,
}


# Where identity warnings quote identifier values (identities.services builds them).
WARNING_VALUE_KEYS = ("value", "anonymous_id", "claimed_by", "user_id", "email", "previous_id")


class ErasureRefused(ValueError):
    """An erasure that cannot be done as asked (the person is already deleted or suppressed)."""


def person_erase(
    *,
    person: Person,
    action: str,
    actor: AbstractBaseUser | None = None,
    via: str = "",
    looked_up_by: str = "",
) -> Erasure:
    """Delete or suppress a person (rule 11): local data removed, identifiers blocked at ingest, Customer.io told.

    A merged-away person stands for its survivor. One transaction, under the person's row lock, so a
    merge or split cannot interleave; Customer.io's `delete` or `suppress` is written to the outbox in
    it, as a barrier after whatever of the person's operations is already being sent.
    """
    if action not in Erasure.Action.values:
        raise ErasureRefused(f"action must be one of {', '.join(Erasure.Action.values)}")
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.merged_into_id or person.pk)
        if person.is_blocked:
            raise ErasureRefused(f"this person was already {person.suppression}")
        tombstones = list(Person.objects.select_for_update().filter(merged_into=person).order_by("pk"))
        group = [person, *tombstones]
        group_ids = [member.pk for member in group]
        identities = list(Identity.objects.filter(person_id__in=group_ids))
        values = sorted(
            {identity.value for identity in identities}
            | {value for member in group for value in (member.customer_id, member.email) if value}
        )
        identifier = person_identifier(person=person, policy=person.workspace.identifier_policy)

        own_events = list(person_events(person=person).values_list("pk", flat=True))
        IdentityWarning.objects.filter(Q(person_id__in=group_ids) | Q(event_id__in=own_events)).delete()
        _warnings_anonymize(person.workspace_id, values)
        events_deleted = _delete_events(own_events)
        events_anonymized = _blank_references(person.workspace_id, values)
        RejectedMessage.objects.filter(workspace_id=person.workspace_id).filter(
            Q(payload__userId__in=values) | Q(payload__anonymousId__in=values) | Q(payload__previousId__in=values)
        ).delete()
        cancelled = _outbox_erase([lane_for(pk) for pk in group_ids], person.workspace_id)
        delivery = (
            deliveries_plan_person_removal(person=person, identifier=identifier, action=action) if identifier else None
        )

        Merge.objects.filter(Q(survivor_id__in=group_ids) | Q(merged_away_id__in=group_ids)).update(
            moved_identities=[], survivor_customer_id="", merged_away_customer_id=""
        )
        Split.objects.filter(Q(person_id__in=group_ids) | Q(new_person_id__in=group_ids)).update(moved_identities=[])
        DuplicateDismissal.objects.filter(
            workspace_id=person.workspace_id, group_key__in=_group_keys(identities)
        ).delete()
        Identity.objects.filter(person_id__in=group_ids).delete()
        Person.objects.filter(pk__in=group_ids).update(
            customer_id="",
            email="",
            email_folded="",
            traits={},
            is_identified=False,
            suppression=SUPPRESSION_STATE[action],
            suppressed_at=timezone.now(),
        )

        erasure = Erasure.objects.create(
            workspace_id=person.workspace_id,
            person=person,
            action=action,
            actor=actor,
            actor_name=getattr(actor, "username", "") if actor is not None else "",
            via=via,
            looked_up_by=looked_up_by,
            events_deleted=events_deleted,
            events_anonymized=events_anonymized,
            identities_suppressed=len(values),
            deliveries_cancelled=cancelled,
            delivery=delivery,
        )
        identifiers_suppress(workspace_id=person.workspace_id, values=values, erasure=erasure)
        if delivery is not None:
            deliveries_nudge(workspace_id=person.workspace_id)
    return erasure


def identifiers_suppress(*, workspace_id: int, values: Iterable[str], erasure: Erasure | None = None) -> int:
    """Add identifier values to the workspace's suppression list (as digests); returns how many were new."""
    rows = [
        SuppressedIdentifier(workspace_id=workspace_id, digest=digest, erasure=erasure)
        for digest in sorted({identifier_digest(value) for value in values if value})
    ]
    before = SuppressedIdentifier.objects.filter(workspace_id=workspace_id).count()
    SuppressedIdentifier.objects.bulk_create(rows, ignore_conflicts=True)
    return SuppressedIdentifier.objects.filter(workspace_id=workspace_id).count() - before


def _delete_events(event_ids: list[str]) -> int:
    deleted = 0
    for start in range(0, len(event_ids), 500):
        deleted += Event.objects.filter(pk__in=event_ids[start : start + 500]).delete()[1].get("events.Event", 0)
    return deleted


def _blank_references(workspace_id: int, values: list[str]) -> int:
    """Other people's events that name one of the identifiers keep everything but that field."""
    if not values:
        return 0
    events = Event.objects.filter(workspace_id=workspace_id)
    touched = set(
        events.filter(Q(user_id__in=values) | Q(anonymous_id__in=values) | Q(previous_id__in=values)).values_list(
            "pk", flat=True
        )
    )
    for field in ("user_id", "anonymous_id", "previous_id"):
        events.filter(**{f"{field}__in": values}).update(**{field: ""})
    return len(touched)


def _warnings_anonymize(workspace_id: int, values: list[str]) -> None:
    """Other people's warnings that quote one of the identifiers (a shared device, an email conflict)."""
    if not values:
        return
    naming = Q()
    for key in WARNING_VALUE_KEYS:
        naming |= Q(**{f"values__{key}__in": values})
    IdentityWarning.objects.filter(workspace_id=workspace_id).filter(naming).update(values={"erased": "GDPR"})


def _outbox_erase(lanes: list[str], workspace_id: int) -> int:
    """Cancel the person's pending events and empty its finished deliveries; returns how many were cancelled.

    Pending identifies and merges still go, before the delete/suppress barrier: a merge is what deletes
    a merged-away profile in Customer.io, and it needs its primary to exist there. Whatever is being
    sent right now finishes too; the barrier waits for all of them.
    """
    outbox = Delivery.objects.filter(workspace_id=workspace_id, lane__in=lanes)
    events = (Delivery.Kind.EVENT, Delivery.Kind.ANONYMOUS_EVENT)
    cancelled = outbox.filter(state=Delivery.State.PENDING, kind__in=events).update(
        state=Delivery.State.FAILED,
        request=ERASED_REQUEST,
        last_error="cancelled: the person was erased (GDPR)",
        claimed_at=None,
    )
    outbox.exclude(state__in=Delivery.OPEN_STATES).update(request=ERASED_REQUEST)
    return cancelled


def _group_keys(identities: list[Identity]) -> list[str]:
    keys = []
    for identity in identities:
        if identity.kind == Identity.Kind.EMAIL:
            keys.append(f"email:{email_fold(email_normalize(identity.value))}")
        elif identity.kind == Identity.Kind.ANONYMOUS_ID:
            keys.append(f"anonymous_id:{identity.value}")
    return keys
