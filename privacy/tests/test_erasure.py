"""GDPR deletion and suppression over HTTP: the API, the admin, what is removed, and what Customer.io hears."""

import pytest
from django.test import Client

from conftest import SERVER_KEY, basic_auth
from events.models import Event, RejectedMessage
from forwarding.models import Delivery
from forwarding.services import deliveries_send
from identities.models import Identity, IdentityWarning, Merge, Person
from identities.selectors import identity_is_blocked, person_get_by_any_identifier
from privacy.identifiers import identifier_digest
from privacy.models import Erasure, SuppressedIdentifier
from privacy.services import ErasureRefused, person_erase

ADA = [
    ("/v1/page", {"anonymousId": "a-1", "name": "Home", "properties": {"url": "https://shop.example/"}}),
    ("/v1/track", {"anonymousId": "a-1", "event": "added_to_cart", "properties": {"cart_id": "c-1"}}),
    ("/v1/identify", {"userId": "u-1", "anonymousId": "a-1", "traits": {"email": "Ada@Example.com", "name": "Ada"}}),
    ("/v1/track", {"userId": "u-1", "event": "order_completed", "properties": {"order_id": "o-1"}}),
]
GRACE = [
    ("/v1/identify", {"userId": "u-2", "anonymousId": "a-2", "traits": {"email": "grace@example.com"}}),
    ("/v1/track", {"userId": "u-2", "event": "order_completed", "properties": {"order_id": "o-2"}}),
]


def ingest(api, messages) -> None:
    for path, message in messages:
        response = api.post(path, message, format="json")
        assert response.status_code == 200, response.content


def drain(workspace) -> None:
    for _ in range(10):
        deliveries_send(workspace=workspace, time_budget=5)
        if not Delivery.objects.filter(state__in=["pending", "sending"]).exists():
            return
    raise AssertionError("deliveries still open after draining")


def ada(workspace) -> Person:
    return person_get_by_any_identifier(workspace=workspace, value="u-1")


def erase(client: Client, identifier: str, action: str = "delete", **extra):
    return client.post(f"/api/people/{identifier}/{action}", **extra)


def test_it_deletes_a_person_found_by_email_and_customerio_hears_delete(api, workspace, emulator, as_user):
    ingest(api, ADA + GRACE)
    drain(workspace)
    assert emulator.person("u-1") is not None
    person = ada(workspace)

    response = erase(as_user("carol"), "ada@example.com")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["action"] == "delete" and body["customerio"] == "queued"
    assert body["events_deleted"] == 4 and body["identities_suppressed"] == 3
    # Locally: events, identities and traits gone; the row stays as an anonymized tombstone.
    assert not Event.objects.filter(user_id="u-1").exists()
    assert not Event.objects.filter(anonymous_id="a-1").exists()
    assert not Identity.objects.filter(person=person).exists()
    person.refresh_from_db()
    assert (person.customer_id, person.email, person.traits) == ("", "", {})
    assert person.suppression == Person.Suppression.DELETED and person.suppressed_at
    assert person_get_by_any_identifier(workspace=workspace, value="u-1") is None
    # Grace is untouched.
    assert Event.objects.filter(user_id="u-2").count() == 2
    # Audited, with the actor and how the person was found (never the value).
    erasure = Erasure.objects.get()
    assert (erasure.actor.username, erasure.via, erasure.looked_up_by) == ("carol", "api", "email")
    digests = set(SuppressedIdentifier.objects.values_list("digest", flat=True))
    assert digests == {identifier_digest(value) for value in ("u-1", "a-1", "ada@example.com")}
    # Customer.io: a v2 `delete` through the outbox, after which the profile is gone.
    drain(workspace)
    assert emulator.person("u-1") is None
    ops = [op for request in emulator.requests() if request["path"] == "/api/v2/batch" for op in _ops(request)]
    assert {"type": "person", "action": "delete", "identifiers": {"id": "u-1"}} in ops
    assert erasure.delivery.state == Delivery.State.DELIVERED


def test_it_suppresses_a_person_found_by_anonymous_id(api, workspace, emulator, as_user):
    ingest(api, ADA)
    drain(workspace)

    response = erase(as_user("carol"), "a-1", "suppress")

    assert response.status_code == 200, response.content
    assert ada(workspace) is None
    assert Person.objects.get(suppression=Person.Suppression.SUPPRESSED)
    assert Erasure.objects.get().looked_up_by == "anonymous_id"
    drain(workspace)
    notes = emulator.get("notes", kind="suppressed")["notes"]
    assert notes and {"u-1", "ada@example.com"} <= set(notes[0]["detail"]["identifiers"])
    assert emulator.person("u-1") is None


def test_later_events_for_an_erased_person_are_dropped_and_counted(api, workspace, emulator, as_user):
    ingest(api, ADA)
    erase(as_user("carol"), "u-1")
    Delivery.objects.all().delete()

    ingest(
        api,
        [
            ("/v1/track", {"userId": "u-1", "event": "viewed"}),
            ("/v1/track", {"anonymousId": "a-1", "event": "viewed"}),
            ("/v1/identify", {"anonymousId": "a-9", "traits": {"email": " ADA@example.com"}}),
            ("/v1/alias", {"previousId": "a-1", "userId": "u-7"}),
        ],
    )
    response = api.post("/v1/batch", {"batch": [{"type": "track", "userId": "u-1", "event": "x"}]}, format="json")
    assert response.status_code == 200 and response.json() == {}  # received, not to be retried

    assert not Event.objects.filter(workspace=workspace).exists()
    dropped = RejectedMessage.objects.filter(code="suppressed")
    assert dropped.count() == 5
    assert set(dropped.values_list("payload", flat=True)) == {None}  # nothing of the message is kept
    assert not Delivery.objects.exists()


def test_the_erased_identities_still_read_as_blocked(api, workspace, as_user):
    ingest(api, ADA)
    erase(as_user("carol"), "u-1")
    for kind, value in [("user_id", "u-1"), ("anonymous_id", "a-1"), ("email", " ADA@example.com")]:
        assert identity_is_blocked(workspace=workspace, kind=kind, value=value)
    assert not identity_is_blocked(workspace=workspace, kind="user_id", value="u-2")


def test_a_shared_device_keeps_the_other_persons_event_without_the_erased_anonymous_id(api, workspace, as_user):
    ingest(api, ADA)
    erase(as_user("carol"), "u-1")
    ingest(api, [("/v1/track", {"userId": "u-2", "anonymousId": "a-1", "event": "viewed"})])
    event = Event.objects.get()
    assert (event.user_id, event.anonymous_id) == ("u-2", "")
    assert "suppressed_id_removed" in event.flags


def test_it_anonymizes_what_names_the_person_in_other_records(api, workspace, as_user):
    ingest(api, ADA)
    # Grace's event on Ada's device, a rejected message and a merge that name Ada's identifiers.
    ingest(api, [("/v1/identify", {"userId": "u-2", "anonymousId": "a-1"})])
    ingest(
        api,
        [
            ("/v1/track", {"anonymousId": "a-3", "event": "e"}),
            ("/v1/identify", {"userId": "u-1", "anonymousId": "a-3"}),
        ],
    )
    bad = {"batch": [{"type": "track", "userId": "u-1"}, {"type": "track", "userId": "x", "event": "e"}]}
    assert api.post("/v1/batch", bad, format="json").status_code == 200
    assert RejectedMessage.objects.filter(payload__userId="u-1").exists()
    assert {"kind": "anonymous_id", "value": "a-3"} in Merge.objects.get().moved_identities

    body = erase(as_user("carol"), "u-1").json()

    assert body["events_anonymized"] == 1
    grace_event = Event.objects.get(user_id="u-2")
    assert grace_event.anonymous_id == ""
    assert not RejectedMessage.objects.filter(payload__userId="u-1").exists()
    assert Merge.objects.get(survivor=ada_or_tombstone(workspace)).moved_identities == []
    shared_device = IdentityWarning.objects.get(kind=IdentityWarning.Kind.SHARED_DEVICE)  # Grace's
    assert shared_device.values == {"erased": "GDPR"}


def ada_or_tombstone(workspace) -> Person:
    return Person.objects.get(workspace=workspace, suppression=Person.Suppression.DELETED, merged_into=None)


def test_pending_events_are_cancelled_and_the_delete_waits_for_nothing_else(api, workspace, emulator, as_user):
    ingest(api, ADA)  # nothing sent yet: four deliveries pending
    body = erase(as_user("carol"), "u-1").json()
    assert body["deliveries_cancelled"] == 3  # the anonymous page, the cart, the order
    cancelled = Delivery.objects.filter(state=Delivery.State.FAILED)
    assert {tuple(d.request) for d in cancelled} == {("refused",)}  # bodies emptied
    drain(workspace)
    kinds = [request["path"] for request in emulator.requests()]
    assert "/api/v1/events" not in kinds  # no anonymous event went out after the request
    assert emulator.person("u-1") is None  # identified, then deleted


def test_an_anonymous_person_is_erased_locally_and_customerio_is_not_asked(api, workspace, as_user):
    ingest(api, [("/v1/track", {"anonymousId": "a-5", "event": "viewed"})])
    body = erase(as_user("carol"), "a-5").json()
    assert body["customerio"] == "not_known" and body["events_deleted"] == 1
    assert not Delivery.objects.filter(kind__in=["delete", "suppress"]).exists()


def test_it_answers_404_for_nobody_and_409_for_an_erased_person(api, workspace, as_user):
    ingest(api, ADA)
    carol = as_user("carol")
    assert erase(carol, "nobody@example.com").json()["code"] == "not_found"
    person = ada(workspace)
    assert erase(carol, "u-1").status_code == 200
    response = erase(carol, person.reference, "suppress")
    assert response.status_code == 409
    assert response.json()["code"] == "already_removed"
    with pytest.raises(ErasureRefused):
        person_erase(person=person, action="delete")


def test_a_customerio_cio_id_never_erases_the_person_whose_seam_id_it_resembles(api, workspace, as_user):
    ingest(api, ADA)
    person = ada(workspace)
    response = erase(as_user("carol"), f"cio_{person.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    person.refresh_from_db()
    assert person.suppression == Person.Suppression.NONE and not Erasure.objects.exists()


@pytest.mark.parametrize("persona", ["alice", "bob", "dave", "erin"])
def test_only_an_admin_may_erase(api, workspace, as_user, persona):
    ingest(api, ADA)
    response = erase(as_user(persona), "u-1")
    assert response.status_code == 403
    assert set(response.json()) >= {"code", "message"}
    assert ada(workspace) is not None


def test_no_credentials_or_a_write_key_cannot_erase(api, workspace, personas):
    ingest(api, ADA)
    anonymous = erase(Client(), "u-1")
    with_key = erase(Client(), "u-1", headers={"Authorization": basic_auth(SERVER_KEY)})
    bearer = erase(Client(), "u-1", headers={"Authorization": f"Bearer {SERVER_KEY}"})
    for response in (anonymous, with_key, bearer):
        assert response.status_code in (401, 403)
        assert set(response.json()) >= {"code", "message"}
    assert ada(workspace) is not None


def test_the_session_api_needs_a_csrf_token(api, workspace, personas):
    ingest(api, ADA)
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["carol"])
    response = erase(client, "u-1")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert ada(workspace) is not None


def test_an_admin_erases_from_the_django_admin(api, workspace, emulator, as_user):
    ingest(api, ADA)
    carol = as_user("carol")
    assert carol.get("/admin/privacy/erasure/add/").status_code == 200
    response = carol.post(
        "/admin/privacy/erasure/add/",
        {"workspace": workspace.pk, "identifier": "u-1", "action": "suppress", "confirm": "on"},
    )
    assert response.status_code == 302, response.content
    erasure = Erasure.objects.get()
    assert (erasure.action, erasure.via, erasure.actor_name) == ("suppress", "admin", "carol")
    assert carol.get(f"/admin/privacy/erasure/{erasure.pk}/change/").status_code == 200
    assert as_user("bob").get("/admin/privacy/erasure/add/").status_code == 403


def _ops(request: dict) -> list[dict]:
    body = request.get("body")
    return body.get("batch", []) if isinstance(body, dict) else []
