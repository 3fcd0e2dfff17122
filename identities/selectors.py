"""Reads for people and identities: lookups, timelines, the rule 7 policy and duplicate candidates."""

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from events.models import Event
from identities.models import DuplicateDismissal, Identity, IdentityPolicy, IdentityWarning, Person
from identities.normalize import (
    DEFAULT_ILLEGAL_VALUES,
    IdentifierRules,
    email_is_shaped,
    email_normalize,
    identifier_illegal_reason,
)
from workspaces.models import Workspace

Key = tuple[str, str]  # (Identity.Kind, value)

# Seam's own person reference (Person.reference): the lookup takes it as a primary key.
SEAM_REFERENCE = re.compile(r"^seam_(\d{1,18})$")
# Customer.io's cio_id. Customer.io assigns it and the Track API never returns it, so Seam cannot know
# whose it is: the lookup must never read its digits as a Seam primary key (that would find a stranger).
CIO_ID = re.compile(r"^cio_", re.IGNORECASE)
# What the email policy treats as an email-shaped user id, in SQL (see normalize.EMAIL_SHAPE).
EMAIL_SHAPE_SQL = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"


def identifier_rules_for(*, workspace: Workspace) -> IdentifierRules:
    """The workspace's rule 7 settings: its IdentityPolicy row, or the product's defaults.

    Read with the workspace when it came with it (ingest's source lookup selects it), else asked now.
    """
    relation = Workspace.identity_policy.related
    if relation.is_cached(workspace):
        policy = relation.get_cached_value(workspace)  # None: the workspace has no row
    else:
        policy = IdentityPolicy.objects.filter(workspace=workspace).first()
    if policy is None:
        return IdentifierRules()
    values = set(DEFAULT_ILLEGAL_VALUES) if policy.use_default_blocklist else set()
    values |= _lines(policy.extra_blocked_values)
    values -= _lines(policy.allowed_values)
    return IdentifierRules(
        illegal_values=frozenset(values), max_bytes=policy.max_id_bytes, nul_is_illegal=policy.nul_is_illegal
    )


def _lines(text: str) -> set[str]:
    return {line.strip().lower() for line in text.splitlines() if line.strip()}


def event_deciding_key(*, event: Event, rules: IdentifierRules, email_policy: bool) -> Key | None:
    """The identity that decides an event's person: its legal user id, else its legal anonymous id.

    Under the `email` policy an email-shaped user id is the person's email.
    """
    if event.user_id and identifier_illegal_reason(event.user_id, rules=rules) is None:
        if email_policy and email_is_shaped(event.user_id):
            return (Identity.Kind.EMAIL, email_normalize(event.user_id))
        return (Identity.Kind.USER_ID, event.user_id)
    if event.anonymous_id and identifier_illegal_reason(event.anonymous_id, rules=rules) is None:
        return (Identity.Kind.ANONYMOUS_ID, event.anonymous_id)
    return None


def person_live(*, person: Person) -> Person:
    """The live person for a possibly merged-away one: tombstones point straight at the survivor."""
    return _live(Person.objects.get(pk=person.pk))


def person_for_identity(*, workspace: Workspace, kind: str, value: str) -> Person | None:
    """The live owner of one identity, if any."""
    identity = Identity.objects.filter(workspace=workspace, kind=kind, value=value).select_related("person").first()
    return None if identity is None else _live(identity.person)


def _live(person: Person) -> Person:
    return person if person.merged_into_id is None else Person.objects.get(pk=person.merged_into_id)


def event_person(*, event: Event) -> Person | None:
    """The live person an event belongs to, through its deciding identity (events carry no person)."""
    workspace = event.workspace
    key = event_deciding_key(
        event=event,
        rules=identifier_rules_for(workspace=workspace),
        email_policy=workspace.identifier_policy == Workspace.IdentifierPolicy.EMAIL,
    )
    return None if key is None else person_for_identity(workspace=workspace, kind=key[0], value=key[1])


def person_get_by_any_identifier(*, workspace: Workspace, value: str) -> Person | None:
    """Support's lookup: an email, customer id, anonymous id, Seam's `seam_<id>` reference or an order id.

    A Customer.io `cio_` id is only ever matched literally, as an identifier someone sent (see CIO_ID).
    """
    value = value.strip()
    if not value:
        return None
    reference = SEAM_REFERENCE.match(value)
    if reference:
        person = Person.objects.filter(workspace=workspace, pk=int(reference.group(1))).first()
        if person is not None:
            return _live(person)
    wanted = [(Identity.Kind.USER_ID, value), (Identity.Kind.ANONYMOUS_ID, value)]
    email = email_normalize(value)
    if email:
        wanted.insert(0, (Identity.Kind.EMAIL, email))
    found = {
        (identity.kind, identity.value): identity.person
        for identity in Identity.objects.filter(workspace=workspace)
        .filter(reduce(or_, (Q(kind=kind, value=v) for kind, v in wanted)))
        .select_related("person")
    }
    for key in wanted:
        if key in found:
            return _live(found[key])
    if email:
        # An email held only as an attribute (rule 5 keeps it off a second customer's identities).
        person = Person.objects.filter(workspace=workspace, email=email, merged_into=None).order_by("pk").first()
        if person is not None:
            return person
    # Order ids are not identities: find the order's newest event and follow it to its person.
    # A JSON lookup without an index: a support lookup, not a hot path.
    order_ids: list[object] = [value]
    if value.isdigit():
        order_ids.append(int(value))
    order_event = (
        Event.objects.filter(workspace=workspace, properties__order_id__in=order_ids).order_by("-timestamp").first()
    )
    return None if order_event is None else event_person(event=order_event)


def person_events(*, person: Person) -> QuerySet[Event]:
    """A person's timeline, newest first: events whose deciding identity is one of the person's.

    Found through identities, never through a person column, so merges cost nothing per event.
    """
    person = _live(person)
    values: dict[str, list[str]] = defaultdict(list)
    for kind, value in Identity.objects.filter(person=person).values_list("kind", "value"):
        values[kind].append(value)
    email_policy = person.workspace.identifier_policy == Workspace.IdentifierPolicy.EMAIL
    events = Event.objects.filter(workspace_id=person.workspace_id)

    by_user = Q(user_id__in=values[Identity.Kind.USER_ID])
    if email_policy and values[Identity.Kind.EMAIL]:
        by_user |= reduce(or_, (Q(user_id__iexact=email) for email in values[Identity.Kind.EMAIL]))
    # An anonymous id decides only when the user id does not: blank, or never an identity (illegal).
    user_id_known = Identity.objects.filter(
        workspace_id=person.workspace_id, kind=Identity.Kind.USER_ID, value=OuterRef("user_id")
    )
    by_anonymous = Q(anonymous_id__in=values[Identity.Kind.ANONYMOUS_ID]) & (Q(user_id="") | ~Exists(user_id_known))
    if email_policy:
        by_anonymous &= Q(user_id="") | ~Q(user_id__regex=EMAIL_SHAPE_SQL)
    return events.filter(by_user | by_anonymous).order_by("-timestamp", "-id")


def identity_is_blocked(*, workspace: Workspace, kind: str, value: str) -> bool:
    """Rule 11: whether this identity belongs to a suppressed or deleted person (ingest must not use it)."""
    if kind == Identity.Kind.EMAIL:
        value = email_normalize(value)
    person = person_for_identity(workspace=workspace, kind=kind, value=value)
    if person is not None:
        return person.is_blocked
    # An erased person's identities are gone; their digests stay on the suppression list (privacy app).
    from privacy.selectors import identifier_is_suppressed

    return identifier_is_suppressed(workspace=workspace, value=value)


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Live people that are probably one human, for review: merge them or dismiss the group."""

    key: str  # "email:<folded>" or "anonymous_id:<value>"; dismissals remember it
    kind: str  # "email" or "anonymous_id"
    value: str
    people: list[Person]

    @property
    def person_ids(self) -> list[int]:
        return [person.pk for person in self.people]


def duplicates_find(*, workspace: Workspace) -> list[DuplicateGroup]:
    """Groups of live people sharing a folded email, or an anonymous id claimed by two identified people.

    A dismissed group stays hidden while its members are a subset of those dismissed.
    """
    live = Person.objects.filter(workspace=workspace, merged_into=None, suppression=Person.Suppression.NONE)
    groups: list[DuplicateGroup] = []

    shared_emails = (
        live.exclude(email_folded="")
        .values("email_folded")
        .annotate(members=Count("id"))
        .filter(members__gt=1)
        .values_list("email_folded", flat=True)
    )
    by_email: dict[str, list[Person]] = defaultdict(list)
    for person in live.filter(email_folded__in=list(shared_emails)).order_by("pk"):
        by_email[person.email_folded].append(person)
    groups += [DuplicateGroup(f"email:{value}", "email", value, people) for value, people in sorted(by_email.items())]

    # An identity has one owner, so a second claim on an anonymous id lives on as a shared_device
    # warning (rule 2): the owner of the id and each person who claimed it form the group.
    claims: dict[str, set[int]] = defaultdict(set)
    for values, person_id in IdentityWarning.objects.filter(
        workspace=workspace, kind=IdentityWarning.Kind.SHARED_DEVICE, person__isnull=False
    ).values_list("values", "person_id"):
        if isinstance(values, dict) and values.get("anonymous_id"):
            claims[values["anonymous_id"]].add(person_id)
    if claims:
        for anonymous_id, owner_id in Identity.objects.filter(
            workspace=workspace, kind=Identity.Kind.ANONYMOUS_ID, value__in=list(claims)
        ).values_list("value", "person_id"):
            claims[anonymous_id].add(owner_id)
        people = Person.objects.filter(pk__in=set().union(*claims.values())).only("pk", "merged_into_id")
        live_id = {person.pk: person.merged_into_id or person.pk for person in people}
        members_by_id = {person.pk: person for person in live.filter(pk__in=set(live_id.values()), is_identified=True)}
        for anonymous_id in sorted(claims):
            member_ids = sorted({live_id[pk] for pk in claims[anonymous_id] if pk in live_id} & set(members_by_id))
            if len(member_ids) > 1:
                members = [members_by_id[pk] for pk in member_ids]
                groups.append(DuplicateGroup(f"anonymous_id:{anonymous_id}", "anonymous_id", anonymous_id, members))

    dismissed = {
        key: set(person_ids)
        for key, person_ids in DuplicateDismissal.objects.filter(workspace=workspace).values_list(
            "group_key", "person_ids"
        )
    }
    return [group for group in groups if not set(group.person_ids) <= dismissed.get(group.key, set())]
