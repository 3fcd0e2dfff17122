"""The read-only people API: token auth, role checks, {code, message} errors, and the OpenAPI schema."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dashboards.tests.conftest import identify, track
from identities.models import Person
from identities.services import person_merge

pytestmark = pytest.mark.django_db


def ago(minutes: float) -> str:
    return (timezone.now() - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def token_client(personas):
    def client_for(name: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=personas[name])[0].key}")
        return client

    return client_for


@pytest.fixture
def ada(shop):
    shop.send(track("product_viewed", ago(30), anonymousId="a-ada", properties={"product_id": "p-1"}), source="browser")
    shop.send(identify(ago(29), userId="u-ada", anonymousId="a-ada", traits={"email": "ada@example.com"}))
    shop.send(*[track("added_to_cart", ago(20 - i), userId="u-ada", properties={"cart_id": f"c{i}"}) for i in range(5)])
    shop.send(identify(ago(10), userId="u-old", traits={"email": "ada.old@example.com"}))
    survivor, old = Person.objects.get(customer_id="u-ada"), Person.objects.get(customer_id="u-old")
    person_merge(survivor=survivor, merged_away=old)
    return survivor, old


def test_it_finds_a_person_by_any_identifier(token_client, ada, workspace):
    survivor, old = ada
    for query in ("ada@example.com", "a-ada", "u-old", old.reference):
        body = token_client("bob").get("/api/people/", {"q": query}).json()
        assert [person["id"] for person in body["results"]] == [survivor.pk], query
    person = body["results"][0]
    assert person["reference"] == f"seam_{survivor.pk}" and person["customer_id"] == "u-ada"
    assert {("user_id", "u-old"), ("anonymous_id", "a-ada")} <= {(i["kind"], i["value"]) for i in person["identities"]}
    assert person["merges"][0]["merged_away"] == old.pk and person["merges"][0]["reason"] == "manual"
    assert token_client("bob").get("/api/people/", {"q": "nobody"}).json() == {"results": []}


def test_a_customerio_cio_id_finds_nobody_even_when_its_digits_are_a_seam_id(token_client, ada, workspace):
    survivor, old = ada
    for query in (f"cio_{survivor.pk}", f"cio_{old.pk}"):
        response = token_client("bob").get("/api/people/", {"q": query})
        assert response.status_code == 200 and response.json() == {"results": []}, query


def test_it_pages_the_timeline_with_deliveries(token_client, ada, workspace):
    survivor, old = ada
    client = token_client("carol")
    first = client.get(f"/api/people/{survivor.pk}/timeline/", {"limit": 4}).json()
    events = [item for item in first["items"] if item["kind"] == "event"]
    assert len(events) == 4 and first["next"]
    assert events[0]["event"]["timestamp"] >= events[-1]["event"]["timestamp"]
    assert all("deliveries" in item for item in first["items"])
    assert events[0]["deliveries"][0]["state"] == "pending"
    rest = client.get(first["next"]).json()
    names = [item["event"]["name"] for item in rest["items"] if item["kind"] == "event"]
    assert "product_viewed" in names  # the anonymous history, in the same stream
    merges = [item for item in first["items"] + rest["items"] if item["kind"] == "merge"]
    assert merges and merges[0]["merge"]["merged_away"] == old.pk
    # A merged-away id keeps working: it answers with the survivor.
    assert client.get(f"/api/people/{old.pk}/timeline/").json()["person"] == survivor.pk


@pytest.mark.parametrize(
    ("persona", "status", "code"), [("alice", 403, "forbidden"), ("erin", 403, "forbidden"), ("dave", 403, "forbidden")]
)
def test_it_refuses_tokens_without_the_support_role(token_client, ada, persona, status, code):
    response = token_client(persona).get("/api/people/", {"q": "u-ada"})
    assert response.status_code == status
    assert response.json()["code"] == code and response.json()["message"]


def test_it_answers_errors_as_code_and_message(token_client, ada, workspace):
    anonymous = APIClient().get("/api/people/", {"q": "u-ada"})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad.get("/api/people/", {"q": "u-ada"}).status_code == 401
    bob = token_client("bob")
    assert bob.get("/api/people/").json()["code"] == "invalid"
    assert bob.get("/api/people/999999/timeline/").json() == {"code": "not_found", "message": "not found"}
    assert bob.get("/api/people/", {"q": "u-ada", "workspace": "x"}).status_code == 400
    from workspaces.services import workspace_ensure

    workspace_ensure(name="Second")
    assert bob.get("/api/people/", {"q": "u-ada"}).json()["code"] == "workspace_required"
    assert bob.get("/api/people/", {"q": "u-ada", "workspace": workspace.pk}).status_code == 200


def test_it_is_described_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/people/", "/api/people/{person_id}/", "/api/people/{person_id}/timeline/"):
        assert path in schema["paths"], path
    operation = schema["paths"]["/api/people/"]["get"]
    assert {"q", "workspace"} <= {parameter["name"] for parameter in operation["parameters"]}
    assert {"200", "401", "403"} <= set(operation["responses"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]
