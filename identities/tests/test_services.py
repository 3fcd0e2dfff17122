"""Deliberate changes and reads: manual merge, split, duplicate review and the support lookup."""

import pytest
from django.contrib.auth import get_user_model

from identities.models import Identity, Merge, Person, Split
from identities.selectors import duplicates_find, person_events, person_get_by_any_identifier, person_live
from identities.services import (
    PersonChangeRefused,
    duplicate_dismiss,
    duplicate_group_merge,
    person_merge,
    person_split,
)
from identities.tests.lookups import by_anonymous, by_email, by_user, live_people


@pytest.fixture
def charlie(db):
    """Charlie reviews duplicates in the dashboard."""
    return get_user_model().objects.create_user(username="charlie", password="x")


def test_it_audits_a_manual_merge_with_its_actor(ingest, workspace, charlie):
    ingest.identify(userId="cust-1", anonymousId="anon-1")
    ingest.identify(userId="cust-2", anonymousId="anon-2", traits={"plan": "gold"})
    survivor, other = by_user(workspace, "cust-1"), by_user(workspace, "cust-2")

    merge = person_merge(survivor=survivor, merged_away=other, actor=charlie)

    assert merge.actor == charlie and merge.event is None
    assert merge.survivor_customer_id == "cust-1" and merge.merged_away_customer_id == "cust-2"
    assert {"kind": "anonymous_id", "value": "anon-2"} in merge.moved_identities
    survivor.refresh_from_db()
    assert survivor.traits["plan"] == "gold"
    assert survivor.customer_id == "cust-1"
    assert person_events(person=survivor).count() == 2
    assert person_live(person=other) == survivor


def test_it_refuses_merges_that_make_no_sense(ingest, workspace):
    ingest.identify(userId="cust-1")
    ingest.identify(userId="cust-2")
    ingest.identify(userId="cust-3")
    one, two, three = (by_user(workspace, value) for value in ("cust-1", "cust-2", "cust-3"))
    person_merge(survivor=one, merged_away=two)

    with pytest.raises(PersonChangeRefused):
        person_merge(survivor=one, merged_away=one)
    with pytest.raises(PersonChangeRefused):
        person_merge(survivor=three, merged_away=two)  # a tombstone
    Person.objects.filter(pk=three.pk).update(suppression=Person.Suppression.DELETED)
    with pytest.raises(PersonChangeRefused):
        person_merge(survivor=one, merged_away=three)


def test_it_splits_an_over_merge_back_out(ingest, workspace, charlie):
    ingest.track("viewed", anonymousId="laptop-1")
    ingest.identify(userId="alice", anonymousId="phone-1", traits={"email": "alice@example.com"})
    ingest.identify(userId="bob", traits={"email": "bob@example.com"})
    alice, bob = by_user(workspace, "alice"), by_user(workspace, "bob")
    person_merge(survivor=alice, merged_away=bob, actor=charlie)  # the over-merge

    alice.refresh_from_db()
    bobs = Identity.objects.filter(person=alice, value__in=["bob", "bob@example.com"])
    split = person_split(person=alice, identities=list(bobs), actor=charlie)

    new_bob = split.new_person
    alice.refresh_from_db()
    assert by_user(workspace, "bob") == new_bob == by_email(workspace, "bob@example.com")
    assert (new_bob.customer_id, new_bob.email, new_bob.is_identified) == ("bob", "bob@example.com", True)
    assert (alice.customer_id, alice.email) == ("alice", "alice@example.com")
    assert by_anonymous(workspace, "phone-1") == alice
    assert {"kind": "user_id", "value": "bob"} in split.moved_identities
    assert Split.objects.get().actor == charlie
    assert [event.user_id for event in person_events(person=new_bob)] == ["bob"]


def test_it_refuses_a_split_that_leaves_nothing_or_takes_someone_elses(ingest, workspace):
    ingest.identify(userId="alice")
    ingest.identify(userId="bob")
    alice = by_user(workspace, "alice")
    with pytest.raises(PersonChangeRefused):
        person_split(person=alice, identities=list(alice.identities.all()))
    with pytest.raises(PersonChangeRefused):
        person_split(person=alice, identities=list(Identity.objects.filter(value="bob")))


def test_it_finds_duplicates_by_folded_email(ingest, workspace):
    ingest.identify(userId="cust-1", traits={"email": "a.lice@gmail.com"})
    ingest.identify(userId="cust-2", traits={"email": "alice+shop@googlemail.com"})
    ingest.identify(userId="cust-3", traits={"email": "carol@example.com"})

    [group] = duplicates_find(workspace=workspace)
    assert group.key == "email:alice@gmail.com"
    assert group.person_ids == sorted([by_user(workspace, "cust-1").pk, by_user(workspace, "cust-2").pk])
    assert by_email(workspace, "alice@gmail.com") is None, "folding is for detection only"


def test_it_finds_duplicates_sharing_an_anonymous_id(ingest, workspace):
    ingest.identify(userId="alice", anonymousId="laptop-1")
    ingest.identify(userId="bob", anonymousId="laptop-1")

    [group] = duplicates_find(workspace=workspace)
    assert group.key == "anonymous_id:laptop-1"
    assert {person.customer_id for person in group.people} == {"alice", "bob"}


def test_it_remembers_a_dismissed_group_until_someone_new_joins(ingest, workspace, charlie):
    ingest.identify(userId="cust-1", traits={"email": "family@example.com"})
    ingest.identify(userId="cust-2", traits={"email": "family@example.com"})
    [group] = duplicates_find(workspace=workspace)

    duplicate_dismiss(workspace=workspace, group_key=group.key, person_ids=group.person_ids, actor=charlie)
    assert duplicates_find(workspace=workspace) == []

    ingest.identify(userId="cust-3", traits={"email": "family@example.com"})
    [again] = duplicates_find(workspace=workspace)
    assert len(again.people) == 3


def test_it_merges_a_reviewed_group_into_the_chosen_survivor(ingest, workspace, charlie):
    for customer in ("cust-1", "cust-2", "cust-3"):
        ingest.identify(userId=customer, traits={"email": "family@example.com"})
    [group] = duplicates_find(workspace=workspace)
    survivor = by_user(workspace, "cust-2")

    merges = duplicate_group_merge(survivor=survivor, people=group.people, actor=charlie)

    assert len(merges) == 2
    assert all(merge.reason == Merge.Reason.MANUAL and merge.actor == charlie for merge in merges)
    assert list(live_people(workspace)) == [survivor]
    assert duplicates_find(workspace=workspace) == []


def test_it_looks_a_customer_up_by_any_identifier(ingest, workspace):
    ingest.track("viewed", anonymousId="anon-1")
    ingest.identify(userId="cust-1", anonymousId="anon-1", traits={"email": "alice@example.com"})
    ingest.track("order_completed", userId="cust-1", properties={"order_id": 1001})
    alice = by_user(workspace, "cust-1")

    for value in ("cust-1", "anon-1", " ALICE@example.com", alice.reference, "1001"):
        assert person_get_by_any_identifier(workspace=workspace, value=value) == alice, value
    for value in ("", "nobody", "seam_999999", "nobody@example.com"):
        assert person_get_by_any_identifier(workspace=workspace, value=value) is None, value


@pytest.mark.parametrize("prefix", ["cio_", "CIO_"])
def test_it_never_reads_a_customerio_cio_id_as_a_seam_primary_key(ingest, workspace, prefix):
    """Customer.io assigns cio_ids and the Track API never returns them: a pasted cio_<n> whose digits
    equal a Seam primary key must not find that stranger."""
    ingest.identify(userId="cust-1", traits={"email": "alice@example.com"})
    alice = by_user(workspace, "cust-1")

    assert person_get_by_any_identifier(workspace=workspace, value=f"{prefix}{alice.pk}") is None


def test_it_lists_a_timeline_newest_first(ingest, workspace):
    ingest.track("first", anonymousId="anon-1", timestamp="2026-01-01T10:00:00Z")
    ingest.track("second", anonymousId="anon-1", timestamp="2026-01-01T11:00:00Z")
    ingest.identify(userId="cust-1", anonymousId="anon-1", timestamp="2026-01-01T12:00:00Z")
    ingest.track("elsewhere", userId="cust-2", anonymousId="anon-1", timestamp="2026-01-01T13:00:00Z")

    timeline = person_events(person=by_user(workspace, "cust-1"))
    expected = [("identify", ""), ("track", "second"), ("track", "first")]
    assert [(event.type, event.name) for event in timeline] == expected


def test_last_seen_only_moves_forward_and_never_on_a_suppressed_person(ingest, workspace):
    ingest.identify(userId="cust-1", timestamp="2026-11-20T10:00:00Z")
    ingest.identify(userId="cust-2", timestamp="2026-11-20T10:00:00Z")
    Person.objects.filter(customer_id="cust-2").update(suppression=Person.Suppression.SUPPRESSED)
    ingest.batch(
        {"type": "track", "userId": "cust-1", "event": "viewed", "timestamp": "2026-11-21T08:30:00.250Z"},
        {"type": "track", "userId": "cust-1", "event": "viewed", "timestamp": "2026-11-19T08:00:00Z"},
        {"type": "track", "userId": "cust-2", "event": "viewed", "timestamp": "2026-11-22T09:00:00Z"},
    )
    ingest.track("viewed", userId="cust-1", timestamp="2026-11-20T12:00:00Z")  # earlier than what is recorded
    seen = dict(Person.objects.values_list("customer_id", "last_seen"))
    assert seen["cust-1"].isoformat() == "2026-11-21T08:30:00.250000+00:00"
    assert seen["cust-2"].isoformat() == "2026-11-20T10:00:00+00:00"
