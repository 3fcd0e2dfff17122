"""One test per identity rule (product.md), each the real shop scenario, driven through the ingest API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from identities.models import Identity, IdentityPolicy, IdentityWarning, Merge, Person
from identities.selectors import event_person, identity_is_blocked, person_events, person_get_by_any_identifier
from identities.services import person_merge
from identities.tests.lookups import by_anonymous, by_email, by_user, live_people
from workspaces.models import Workspace


def warnings_of(workspace, kind):
    return list(IdentityWarning.objects.filter(workspace=workspace, kind=kind).order_by("pk"))


def test_it_keeps_anonymous_browsing_on_one_anonymous_person(ingest, workspace):
    """Rule 1."""
    ingest.page(anonymousId="anon-1", name="Home")
    ingest.track("product_viewed", anonymousId="anon-1", properties={"product_id": "p1"})

    person = by_anonymous(workspace, "anon-1")
    assert person is not None
    assert not person.is_identified
    assert person.customer_id == ""
    assert person_events(person=person).count() == 2
    assert live_people(workspace).count() == 1


def test_it_merges_anonymous_history_on_login(ingest, workspace):
    """Rules 1, 2 and 3: browse, add to cart, email capture, login, order: one person, one timeline."""
    ingest.track("product_viewed", anonymousId="anon-1", properties={"product_id": "p1"})
    ingest.track("added_to_cart", anonymousId="anon-1", properties={"cart_id": "c1", "product_id": "p1"})
    ingest.identify(anonymousId="anon-1", traits={"email": " Alice@Example.com "})
    lead = by_email(workspace, "alice@example.com")
    assert lead == by_anonymous(workspace, "anon-1")
    assert lead.is_identified and lead.customer_id == ""

    ingest.identify(userId="cust-1", anonymousId="anon-1", traits={"email": "alice@example.com", "name": "Alice"})
    ingest.track("order_completed", userId="cust-1", anonymousId="anon-1", properties={"order_id": "o-1"})

    alice = by_user(workspace, "cust-1")
    assert alice == lead, "the lead captured by email became the customer: never a duplicate"
    assert alice.email == "alice@example.com"
    assert alice.traits["name"] == "Alice"
    assert live_people(workspace).count() == 1
    assert person_events(person=alice).count() == 5
    assert person_get_by_any_identifier(workspace=workspace, value="o-1") == alice


def test_it_joins_mobile_and_desktop_sessions_to_one_customer(ingest, workspace):
    """Rules 2 and 10: two devices browse anonymously, then log in as one customer."""
    ingest.track("product_viewed", anonymousId="phone-1", properties={"product_id": "p1"})
    ingest.track("product_viewed", anonymousId="laptop-1", properties={"product_id": "p2"})
    ingest.identify(userId="cust-1", anonymousId="phone-1")
    ingest.identify(userId="cust-1", anonymousId="laptop-1")

    customer = by_user(workspace, "cust-1")
    assert by_anonymous(workspace, "phone-1") == customer
    assert by_anonymous(workspace, "laptop-1") == customer
    assert person_events(person=customer).count() == 4
    tombstones = Person.objects.filter(workspace=workspace).exclude(merged_into=None)
    assert all(tombstone.merged_into_id == customer.pk for tombstone in tombstones)
    merge = Merge.objects.get(workspace=workspace)
    assert merge.reason == Merge.Reason.IDENTIFY
    assert merge.event.type == Event.Type.IDENTIFY
    assert {"kind": "anonymous_id", "value": "laptop-1"} in merge.moved_identities


def test_it_refuses_to_merge_a_shared_laptop_without_reset(ingest, workspace):
    """Rule 2: Bob logs in on the laptop Alice left without a reset; their profiles stay apart."""
    ingest.identify(userId="alice", anonymousId="laptop-1")
    ingest.track("product_viewed", anonymousId="laptop-1", properties={"product_id": "p1"})
    ingest.identify(userId="bob", anonymousId="laptop-1")
    ingest.track("order_completed", userId="bob", anonymousId="laptop-1", properties={"order_id": "o-2"})

    alice, bob = by_user(workspace, "alice"), by_user(workspace, "bob")
    assert alice != bob
    assert by_anonymous(workspace, "laptop-1") == alice
    assert not Merge.objects.filter(workspace=workspace).exists()
    [warning] = warnings_of(workspace, IdentityWarning.Kind.SHARED_DEVICE)
    assert warning.person == bob
    assert warning.values["anonymous_id"] == "laptop-1"
    assert warning.event.user_id == "bob"
    bob_events = list(person_events(person=bob))
    assert {event.type for event in bob_events} == {"identify", "track"}, "Bob's identify and order are his"
    assert event_person(event=bob_events[0]) == bob


def test_it_lands_a_login_on_the_lead_captured_by_email(ingest, workspace):
    """Rule 3: a popup captured the email on one device; the login happens on another."""
    ingest.identify(anonymousId="phone-1", traits={"email": "alice@example.com"})
    ingest.identify(userId="cust-1", anonymousId="laptop-1", traits={"email": "ALICE@example.com"})

    alice = by_user(workspace, "cust-1")
    assert by_email(workspace, "alice@example.com") == alice
    assert by_anonymous(workspace, "phone-1") == alice
    assert by_anonymous(workspace, "laptop-1") == alice
    assert live_people(workspace).count() == 1


def test_it_merges_a_lead_into_the_known_customer_by_email(ingest, workspace):
    """Rule 3 the other way round: the customer exists, then a lead with the same email appears elsewhere."""
    ingest.identify(userId="cust-1", traits={"email": "alice@example.com"})
    ingest.identify(anonymousId="tablet-1", traits={"email": "alice@example.com"})
    ingest.identify(userId="cust-1", anonymousId="tablet-1")

    alice = by_user(workspace, "cust-1")
    assert by_anonymous(workspace, "tablet-1") == alice
    assert live_people(workspace).count() == 1


def test_it_moves_a_lead_to_the_checkout_email_given_after_the_popup_email(ingest, workspace):
    """Rule 4 for a lead: the popup email then a different checkout email, both finding one person."""
    ingest.track("product_viewed", anonymousId="anon-1", properties={"product_id": "p1"})
    ingest.identify(anonymousId="anon-1", traits={"email": "alice.popup@example.com"})
    ingest.identify(anonymousId="anon-1", traits={"email": "alice.checkout@example.com"})

    lead = by_anonymous(workspace, "anon-1")
    assert lead.email == "alice.checkout@example.com"
    assert by_email(workspace, "alice.popup@example.com") == lead
    assert by_email(workspace, "alice.checkout@example.com") == lead
    assert live_people(workspace).count() == 1

    ingest.identify(userId="cust-1", anonymousId="anon-1", traits={"email": "alice.checkout@example.com"})
    assert by_user(workspace, "cust-1") == lead


def test_it_keeps_the_old_email_finding_the_person_after_an_email_change(ingest, workspace):
    """Rule 4: the customer keeps its id, takes the new email, and the old one still finds them."""
    ingest.identify(userId="cust-1", traits={"email": "alice@old.example"})
    ingest.identify(userId="cust-1", traits={"email": "alice@new.example"})

    alice = by_user(workspace, "cust-1")
    assert alice.customer_id == "cust-1"
    assert alice.email == "alice@new.example"
    assert person_get_by_any_identifier(workspace=workspace, value="alice@old.example") == alice
    assert person_get_by_any_identifier(workspace=workspace, value="Alice@New.Example") == alice
    assert live_people(workspace).count() == 1


def test_it_never_merges_two_accounts_sharing_one_email(ingest, workspace):
    """Rule 5: two customer ids, one email: a duplicate for review, and a warning with the event."""
    ingest.identify(userId="cust-1", traits={"email": "family@example.com"})
    ingest.identify(userId="cust-2", traits={"email": "Family@example.com"})

    first, second = by_user(workspace, "cust-1"), by_user(workspace, "cust-2")
    assert first != second
    assert first.is_live and second.is_live
    assert by_email(workspace, "family@example.com") == first
    assert second.email == "family@example.com", "kept as an attribute, so the pair shows as duplicates"
    [warning] = warnings_of(workspace, IdentityWarning.Kind.EMAIL_CONFLICT)
    assert warning.values == {"email": "family@example.com", "customer_ids": ["cust-2", "cust-1"]}
    assert warning.event.user_id == "cust-2"
    assert not Merge.objects.exists()

    merge = person_merge(survivor=first, merged_away=second, reason=Merge.Reason.MANUAL)
    assert merge.reason == Merge.Reason.MANUAL
    assert by_user(workspace, "cust-2") == first, "a deliberate merge may join two customers"


def test_it_merges_previous_id_on_alias(ingest, workspace):
    """Rule 6: alias(previousId, userId) merges the previous id's person into the user's."""
    ingest.track("added_to_cart", anonymousId="anon-1", properties={"cart_id": "c1"})
    ingest.identify(userId="cust-1", traits={"email": "alice@example.com"})
    ingest.alias(previousId="anon-1", userId="cust-1")

    alice = by_user(workspace, "cust-1")
    assert by_anonymous(workspace, "anon-1") == alice
    assert Merge.objects.get(workspace=workspace).reason == Merge.Reason.ALIAS
    assert person_events(person=alice).count() == 3


def test_it_refuses_an_alias_between_two_customers(ingest, workspace):
    """Rule 6 under rule 5's protection."""
    ingest.identify(userId="cust-1")
    ingest.identify(userId="cust-2")
    ingest.alias(previousId="cust-1", userId="cust-2")

    assert by_user(workspace, "cust-1") != by_user(workspace, "cust-2")
    [warning] = warnings_of(workspace, IdentityWarning.Kind.REFUSED_MERGE_IDENTIFIED)
    assert warning.values["previous_id"] == "cust-1"


def test_it_claims_an_unseen_previous_id_on_alias(ingest, workspace):
    ingest.alias(previousId="anon-9", userId="cust-9")
    ingest.track("product_viewed", anonymousId="anon-9", properties={"product_id": "p1"})
    assert by_anonymous(workspace, "anon-9") == by_user(workspace, "cust-9")


@pytest.mark.parametrize("user_id", ["null", "undefined", '"undefined"', "'null'", "0", "-1", "guest", "x" * 151])
def test_it_never_identifies_with_illegal_values(ingest, workspace, user_id):
    """Rule 7: identify("undefined") and friends keep the event, identify no one, and warn."""
    ingest.identify(userId="alice", anonymousId="laptop-1")
    ingest.identify(userId=user_id, anonymousId="laptop-2", traits={"plan": "free"})
    ingest.identify(userId=user_id, anonymousId="laptop-3")

    assert not Identity.objects.filter(workspace=workspace, value=user_id).exists()
    assert by_anonymous(workspace, "laptop-2") != by_anonymous(workspace, "laptop-3")
    assert not by_anonymous(workspace, "laptop-2").is_identified
    assert not Merge.objects.exists()
    illegal = warnings_of(workspace, IdentityWarning.Kind.ILLEGAL_ID)
    assert len(illegal) == 2
    assert illegal[0].values["field"] == "userId"
    assert Event.objects.filter(workspace=workspace, type="identify").count() == 3


def test_it_treats_identify_null_as_anonymous(ingest, workspace):
    """Rule 7: identify(null) is an anonymous identify; it merges nothing and warns of nothing."""
    ingest.identify(userId=None, anonymousId="laptop-1", traits={"plan": "free"})
    person = by_anonymous(workspace, "laptop-1")
    assert not person.is_identified
    assert person.traits == {"plan": "free"}
    assert not IdentityWarning.objects.exists()


def test_it_never_identifies_with_an_id_that_held_a_nul_byte(api, workspace):
    """Rule 7: ingest replaced the NUL and flagged the event; resolution refuses the id."""
    body = b'{"userId": "cust\\u0000-1", "anonymousId": "anon-1"}'
    response = api.post("/v1/identify", body, content_type="application/json")
    assert response.status_code == 200

    event = Event.objects.get(workspace=workspace)
    assert "nul_replaced" in event.flags
    assert not Identity.objects.filter(kind=Identity.Kind.USER_ID).exists()
    assert warnings_of(workspace, IdentityWarning.Kind.ILLEGAL_ID)[0].values["reason"] == "nul_byte"
    assert event_person(event=event) == by_anonymous(workspace, "anon-1")


def test_it_applies_the_workspace_blocklist(ingest, workspace):
    """Rule 7 is configurable: this shop's test account never identifies; "0" is a real id here."""
    IdentityPolicy.objects.create(workspace=workspace, extra_blocked_values="test-user\n", allowed_values="0")
    ingest.identify(userId="TEST-USER", anonymousId="anon-1")
    ingest.identify(userId="0", anonymousId="anon-2")

    assert by_user(workspace, "TEST-USER") is None
    assert by_user(workspace, "0") == by_anonymous(workspace, "anon-2")


def test_the_policy_is_read_with_the_write_key_and_a_change_applies_to_the_next_request(ingest, workspace):
    with CaptureQueriesContext(connection) as captured:
        ingest.identify(userId="test-user", anonymousId="anon-1")
    reads = [query["sql"] for query in captured.captured_queries if "identities_identitypolicy" in query["sql"]]
    assert len(reads) == 1 and reads[0].startswith('SELECT "workspaces_source"'), reads
    assert "ORDER BY" not in reads[0], "the digest is unique: nothing to sort"
    assert by_user(workspace, "test-user") == by_anonymous(workspace, "anon-1")

    IdentityPolicy.objects.create(workspace=workspace, extra_blocked_values="test-user\n")
    ingest.identify(userId="test-user", anonymousId="anon-2")

    assert by_anonymous(workspace, "anon-2") != by_user(workspace, "test-user")


def test_it_never_identifies_with_an_illegal_email(ingest, workspace):
    ingest.identify(anonymousId="anon-1", traits={"email": "undefined"})
    assert not by_anonymous(workspace, "anon-1").is_identified
    assert warnings_of(workspace, IdentityWarning.Kind.ILLEGAL_ID)[0].values["field"] == "traits.email"


def test_it_merges_at_a_cost_that_does_not_grow_with_history(ingest, workspace):
    """Rule 8: identifying a visitor with 60 events costs what it costs with one."""

    def identify_cost(anonymous_id: str, user_id: str, events: int) -> int:
        ingest.batch(*[{"type": "track", "event": "viewed", "anonymousId": anonymous_id} for _ in range(events)])
        ingest.identify(userId=user_id, traits={"email": f"{user_id}@example.com"})
        with CaptureQueriesContext(connection) as queries:
            ingest.identify(userId=user_id, anonymousId=anonymous_id)
        assert by_anonymous(workspace, anonymous_id) == by_user(workspace, user_id)
        return len(queries)

    assert identify_cost("anon-long", "long", 60) == identify_cost("anon-short", "short", 1)
    assert Merge.objects.filter(workspace=workspace, reason=Merge.Reason.IDENTIFY).count() == 2
    assert person_events(person=by_user(workspace, "long")).count() == 62


def first_owner_read_stale(monkeypatch) -> dict[str, int]:
    """From now on, the first identity-owner look-up answers as if a concurrent claim had not committed yet;
    later ones read the database. Returns the look-ups' count, as it goes."""
    from identities import services

    real = services._identity_owners
    calls = {"count": 0}

    def stale_first_read(ws, keys):
        calls["count"] += 1
        return {} if calls["count"] == 1 else real(ws, keys)

    monkeypatch.setattr(services, "_identity_owners", stale_first_read)
    return calls


def test_it_recovers_when_another_request_claimed_the_identity_first(ingest, workspace, monkeypatch):
    """Rule 9, deterministically: the step read before a concurrent claim committed, then lost the insert."""
    ingest.identify(userId="cust-1")
    owner = by_user(workspace, "cust-1")
    calls = first_owner_read_stale(monkeypatch)
    ingest.identify(userId="cust-1", anonymousId="anon-1")

    assert calls["count"] > 2, "the step retried after its IntegrityError"
    assert Identity.objects.filter(kind=Identity.Kind.USER_ID, value="cust-1").count() == 1
    assert by_anonymous(workspace, "anon-1") == owner
    assert live_people(workspace).count() == 1


def test_a_batch_that_loses_an_identity_to_another_request_uses_the_winners_person(ingest, workspace, monkeypatch):
    """Rule 9 on the bulk path: the batch looked up before a concurrent request's new visitor committed,
    so it made a person of its own; its identity insert is skipped, the event goes to the winner's person
    and the batch's person is removed."""
    ingest.track("viewed", anonymousId="anon-1")
    winner = by_anonymous(workspace, "anon-1")
    calls = first_owner_read_stale(monkeypatch)
    ingest.track("viewed again", anonymousId="anon-1")

    assert calls["count"] == 2, "the lost identity was looked up once more"
    assert list(live_people(workspace)) == [winner]
    assert Person.objects.filter(workspace=workspace).count() == 1
    assert person_events(person=winner).count() == 2


def test_it_repoints_tombstones_straight_at_the_last_survivor(ingest, workspace):
    """Rule 10: A merged into B, then B into C: A points at C, and every identity of A finds C."""
    ingest.track("viewed", anonymousId="anon-a")
    ingest.identify(userId="b", anonymousId="anon-b")
    person_a = by_anonymous(workspace, "anon-a")
    ingest.identify(userId="b", anonymousId="anon-a")
    person_b = by_user(workspace, "b")
    ingest.identify(userId="c")
    person_c = by_user(workspace, "c")

    person_merge(survivor=person_c, merged_away=person_b)

    person_a.refresh_from_db()
    person_b.refresh_from_db()
    assert person_a.merged_into == person_c
    assert person_b.merged_into == person_c
    for value in ("anon-a", "anon-b", "b", "c"):
        assert person_get_by_any_identifier(workspace=workspace, value=value) == person_c
    assert person_get_by_any_identifier(workspace=workspace, value=person_a.reference) == person_c


def test_it_blocks_the_identifiers_of_a_suppressed_person(ingest, workspace):
    """Rule 11 (the part this issue owns): a suppressed person is never merged or extended at ingest."""
    ingest.identify(userId="gone", anonymousId="anon-1", traits={"email": "gone@example.com"})
    Person.objects.filter(pk=by_user(workspace, "gone").pk).update(suppression=Person.Suppression.SUPPRESSED)
    ingest.track("viewed", anonymousId="anon-2")
    ingest.identify(userId="gone", anonymousId="anon-2", traits={"name": "New"})

    assert identity_is_blocked(workspace=workspace, kind="user_id", value="gone")
    assert identity_is_blocked(workspace=workspace, kind="email", value="GONE@example.com")
    assert not identity_is_blocked(workspace=workspace, kind="anonymous_id", value="anon-2")
    assert by_anonymous(workspace, "anon-2") != by_user(workspace, "gone")
    assert "name" not in by_user(workspace, "gone").traits
    assert warnings_of(workspace, IdentityWarning.Kind.BLOCKED_IDENTITY)


def test_it_identifies_by_email_under_the_email_policy(ingest, workspace):
    """The `email` policy: an email-shaped user id is the person's email."""
    Workspace.objects.filter(pk=workspace.pk).update(identifier_policy=Workspace.IdentifierPolicy.EMAIL)
    ingest.track("viewed", anonymousId="anon-1")
    ingest.identify(userId="Alice@Example.com", anonymousId="anon-1")
    ingest.track("order_completed", userId="alice@example.com", properties={"order_id": "o-1"})

    alice = by_email(workspace, "alice@example.com")
    assert alice == by_anonymous(workspace, "anon-1")
    assert alice.customer_id == ""
    assert not Identity.objects.filter(kind=Identity.Kind.USER_ID).exists()
    assert person_events(person=alice).count() == 3
    assert live_people(workspace).count() == 1
