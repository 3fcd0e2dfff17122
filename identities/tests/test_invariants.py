"""Property-based: random track/identify/alias sequences over small pools of ids keep the identity invariants."""

from collections import Counter

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.models import Event
from identities.models import Identity, Merge, Person
from identities.normalize import IdentifierRules
from identities.selectors import event_deciding_key, person_events, person_for_identity

ANONYMOUS_IDS = st.sampled_from(["a1", "a2", "a3"])
# "undefined" stands for rule 7's illegal values.
USER_IDS = st.sampled_from(["u1", "u2", "u3", "undefined"])
EMAILS = st.sampled_from(["x@example.com", "X@example.com ", "y@example.com", "nope"])


@st.composite
def tracks(draw):
    message = {"type": "track", "event": "viewed", "anonymousId": draw(ANONYMOUS_IDS)}
    if draw(st.booleans()):
        message["userId"] = draw(USER_IDS)
    return message


@st.composite
def identifies(draw):
    message = {"type": "identify", "traits": {}}
    if draw(st.booleans()):
        message["anonymousId"] = draw(ANONYMOUS_IDS)
    if draw(st.booleans()) or "anonymousId" not in message:
        message["userId"] = draw(USER_IDS)
    if draw(st.booleans()):
        message["traits"]["email"] = draw(EMAILS)
    return message


@st.composite
def aliases(draw):
    return {"type": "alias", "previousId": draw(st.one_of(ANONYMOUS_IDS, USER_IDS)), "userId": draw(USER_IDS)}


REQUESTS = st.lists(st.one_of(tracks(), identifies(), aliases()), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(REQUESTS, min_size=1, max_size=8))
def test_it_keeps_the_identity_invariants_after_every_step(api, workspace, requests):
    with transaction.atomic():
        for messages in requests:
            response = api.post("/v1/batch", {"batch": messages}, format="json")
            assert response.status_code == 200, response.content
            assert_invariants(workspace)
        transaction.set_rollback(True)  # the next example starts from an empty workspace


def assert_invariants(workspace) -> None:
    people = {person.pk: person for person in Person.objects.filter(workspace=workspace)}

    # Every identity points to exactly one person, and that person is live.
    identities = list(Identity.objects.filter(workspace=workspace))
    assert not [identity for identity in identities if people[identity.person_id].merged_into_id is not None]
    assert max(Counter((identity.kind, identity.value) for identity in identities).values(), default=1) == 1

    # No tombstone chains: a merged-away person points straight at a live survivor.
    for person in people.values():
        if person.merged_into_id is not None:
            assert people[person.merged_into_id].merged_into_id is None, f"chain through {person.merged_into_id}"

    # No automatic merge of two people holding different customer ids (rule 5).
    for merge in Merge.objects.filter(workspace=workspace).exclude(reason=Merge.Reason.MANUAL):
        assert not (
            merge.survivor_customer_id
            and merge.merged_away_customer_id
            and merge.survivor_customer_id != merge.merged_away_customer_id
        ), f"merged {merge.merged_away_customer_id} into {merge.survivor_customer_id} ({merge.reason})"

    # Every event's person is the live owner of its deciding identity, and its timeline holds it.
    timelines = {
        pk: set(person_events(person=person).values_list("pk", flat=True))
        for pk, person in people.items()
        if person.merged_into_id is None
    }
    for event in Event.objects.filter(workspace=workspace):
        key = event_deciding_key(event=event, rules=IdentifierRules(), email_policy=False)
        holders = [pk for pk, timeline in timelines.items() if event.pk in timeline]
        if key is None:
            assert holders == [], f"{event} has no legal id yet is on a timeline"
            continue
        owner = person_for_identity(workspace=workspace, kind=key[0], value=key[1])
        assert owner is not None, f"{event} resolved to nobody"
        assert owner.merged_into_id is None
        assert holders == [owner.pk], f"{event} is on timelines {holders}, its owner is {owner.pk}"
