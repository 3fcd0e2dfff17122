"""The pages, through Django's test client: what each shows, what each action does, and query counts
that do not grow with the data (the list pages' N+1 guard)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboards.models import AuditEntry
from dashboards.services import health_rollup_refresh
from dashboards.tests.conftest import identify, track
from forwarding.models import Delivery, DeliveryAttempt
from identities.models import Merge, Person

pytestmark = pytest.mark.django_db


def ago(days: float = 0, minutes: float = 0) -> str:
    return (timezone.now() - timedelta(days=days, minutes=minutes)).isoformat()


def visitors(shop, count: int, prefix: str) -> None:
    """`count` shoppers: browse anonymously, half of them log in and order."""
    for index in range(count):
        anonymous = f"{prefix}-a{index}"
        shop.send(
            track("product_viewed", ago(index % 20), anonymousId=anonymous, properties={"product_id": f"p{index}"}),
            track("added_to_cart", ago(index % 20), anonymousId=anonymous),
            source="browser",
        )
        if index % 2:
            shop.send(
                identify(ago(index % 20, -1), userId=f"{prefix}-u{index}", anonymousId=anonymous,
                         traits={"email": f"{prefix}{index}@example.com"}),
                track("order_completed", ago(index % 20, -2), userId=f"{prefix}-u{index}",
                      properties={"order_id": f"{prefix}-o{index}", "revenue": 10}),
            )  # fmt: skip


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def test_the_health_page_shows_each_panel(as_user, shop, workspace):
    visitors(shop, 6, "s")
    health_rollup_refresh(workspace=workspace)
    page = as_user("alice").get(reverse("dashboards:health", args=[workspace.pk])).content.decode()
    for text in ("Merge rate", "Identified events", "Unresolved anonymous events", "Duplicate profiles",
                 "Delivery to Customer.io", "Event volume", "Rejected messages", "<svg"):  # fmt: skip
        assert text in page
    assert "Replay" not in page  # nothing failed; and Alice could not replay anyway


def test_the_health_page_costs_the_same_queries_on_more_data(as_user, shop, workspace):
    visitors(shop, 4, "small")
    Delivery.objects.filter(workspace=workspace, pk=Delivery.objects.order_by("pk")[0].pk).update(state="dead")
    health_rollup_refresh(workspace=workspace)
    alice = as_user("alice")
    url = reverse("dashboards:health", args=[workspace.pk])
    alice.get(url)
    small = queries(alice, url)
    visitors(shop, 30, "large")
    Delivery.objects.filter(workspace=workspace).update(state="dead", attempts=3)
    health_rollup_refresh(workspace=workspace)
    assert queries(alice, url) == small
    assert small <= 22


def test_it_shows_duplicates_side_by_side_and_an_admin_merges_them(as_user, shop, workspace, personas):
    shop.send(
        identify(ago(5), userId="u-1", anonymousId="a-1", traits={"email": "maria.lopez@gmail.com", "plan": "gold"})
    )
    shop.send(identify(ago(2), userId="u-2", anonymousId="a-2", traits={"email": "marialopez+shop@gmail.com"}))
    first, second = Person.objects.get(customer_id="u-1"), Person.objects.get(customer_id="u-2")
    url = reverse("dashboards:duplicates", args=[workspace.pk])
    page = as_user("alice").get(url).content.decode()
    assert "Emails that fold to marialopez@gmail.com" in page
    assert "a-1" in page and "a-2" in page and "gold" in page
    assert "Merge into the chosen one" not in page  # a marketer reads; an admin acts

    carol = as_user("carol")
    response = carol.post(
        reverse("dashboards:duplicate-merge", args=[workspace.pk]),
        {"group_key": "email:marialopez@gmail.com", "person_ids": f"{first.pk},{second.pk}", "survivor": second.pk},
        follow=True,
    )
    assert "Merged 1 profile into person" in response.content.decode()
    merge = Merge.objects.get()
    assert (merge.survivor, merge.merged_away, merge.actor) == (second, first, personas["carol"])
    entry = AuditEntry.objects.get(action="merge")
    assert entry.actor_username == "carol" and entry.details["merged_away"] == [first.pk]
    # The merge goes to Customer.io through the outbox; the page shows where it stands.
    assert set(Delivery.objects.filter(merge=merge).values_list("kind", flat=True)) == {"identify", "merge"}
    page = carol.get(url).content.decode()
    assert "No duplicate candidates" in page and "Merge · pending" in page


def test_it_refuses_a_merge_that_no_longer_applies(as_user, shop, workspace):
    shop.send(identify(ago(1), userId="u-1", traits={"email": "x@example.com"}))
    shop.send(identify(ago(1), userId="u-2", traits={"email": "x@example.com"}))
    first, second = Person.objects.order_by("pk")
    url = reverse("dashboards:duplicate-merge", args=[workspace.pk])
    data = {"group_key": "email:x@example.com", "person_ids": f"{first.pk},{second.pk}", "survivor": first.pk}
    as_user("carol").post(url, data)
    response = as_user("carol").post(url, data, follow=True)
    assert "Not merged" in response.content.decode()
    assert Merge.objects.count() == 1 and AuditEntry.objects.filter(action="merge").count() == 1


def test_an_admin_dismisses_a_duplicate_group(as_user, shop, workspace):
    shop.send(identify(ago(1), userId="u-1", traits={"email": "x@example.com"}))
    shop.send(identify(ago(1), userId="u-2", traits={"email": "x@example.com"}))
    ids = ",".join(str(pk) for pk in Person.objects.order_by("pk").values_list("pk", flat=True))
    as_user("carol").post(
        reverse("dashboards:duplicate-dismiss", args=[workspace.pk]),
        {"group_key": "email:x@example.com", "person_ids": ids},
    )
    assert (
        "No duplicate candidates"
        in as_user("alice").get(reverse("dashboards:duplicates", args=[workspace.pk])).content.decode()
    )
    assert AuditEntry.objects.filter(action="dismiss", target="email:x@example.com").exists()


def test_the_duplicate_queue_costs_the_same_queries_for_more_groups(as_user, shop, workspace):
    def groups(count: int, prefix: str) -> None:
        for index in range(count):
            for twin in ("a", "b"):
                shop.send(identify(ago(1), userId=f"{prefix}{index}{twin}", anonymousId=f"{prefix}{index}{twin}-anon",
                                   traits={"email": f"{prefix}{index}@example.com"}))  # fmt: skip

    groups(2, "small")
    alice, url = as_user("alice"), reverse("dashboards:duplicates", args=[workspace.pk])
    alice.get(url)
    small = queries(alice, url)
    groups(12, "large")
    assert queries(alice, url) == small


# --- Customers ------------------------------------------------------------------------------------------


@pytest.fixture
def ada(shop, workspace):
    """Ada browses anonymously, logs in (merging her anonymous person), orders, and had a second account
    that support merged into her; her person is the survivor of both."""
    shop.send(track("product_viewed", ago(3), anonymousId="a-ada", properties={"product_id": "p-1"}), source="browser")
    shop.send(identify(ago(3, -1), userId="u-ada", anonymousId="a-ada", traits={"email": "ada@example.com"}))
    shop.send(track("order_completed", ago(2), userId="u-ada", properties={"order_id": "order-77", "revenue": 29.0}))
    shop.send(identify(ago(1), userId="u-ada-old", traits={"email": "ada.old@example.com"}))
    survivor = Person.objects.get(customer_id="u-ada")
    old = Person.objects.get(customer_id="u-ada-old")
    from identities.services import person_merge

    person_merge(survivor=survivor, merged_away=old)
    return survivor, old


@pytest.mark.parametrize(
    "query", ["ada@example.com", "ADA@example.com ", "u-ada", "a-ada", "order-77", "u-ada-old", "ada.old@example.com"]
)
def test_the_search_finds_the_live_person_by_any_identifier(as_user, ada, workspace, query):
    survivor, _ = ada
    response = as_user("bob").get(reverse("dashboards:customers", args=[workspace.pk]), {"q": query})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("dashboards:person", args=[workspace.pk, survivor.pk]))


def test_the_search_finds_a_merged_away_profile_by_its_seam_reference(as_user, ada, workspace):
    survivor, old = ada
    bob = as_user("bob")
    response = bob.get(reverse("dashboards:customers", args=[workspace.pk]), {"q": old.reference}, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("dashboards:person", args=[workspace.pk, survivor.pk]))
    assert f"{old.reference} is a profile that was merged into this person" in response.content.decode()


def test_the_search_explains_that_a_customerio_cio_id_cannot_be_looked_up(as_user, ada, workspace):
    survivor, _ = ada
    response = as_user("bob").get(reverse("dashboards:customers", args=[workspace.pk]), {"q": f"cio_{survivor.pk}"})
    assert response.status_code == 200  # no redirect to the person whose primary key the digits happen to be
    page = response.content.decode()
    assert "Seam does not know Customer.io's <code>cio_</code> ids" in page
    assert "the Track API never returns them" in page and "Nobody in" not in page


def test_the_search_says_when_nobody_matches(as_user, ada, workspace):
    response = as_user("bob").get(reverse("dashboards:customers", args=[workspace.pk]), {"q": "nobody@example.com"})
    assert response.status_code == 200 and "Nobody in" in response.content.decode()


def test_the_timeline_merges_anonymous_and_known_history_newest_first(as_user, ada, workspace):
    survivor, old = ada
    Delivery.objects.filter(event__name="order_completed").update(state="failed", attempts=1, last_status_code=400)
    delivery = Delivery.objects.get(event__name="order_completed")
    DeliveryAttempt.objects.create(
        delivery=delivery, started_at=timezone.now(), status_code=400, response_body='{"meta":{"error":"bad"}}',
        latency_ms=120,
    )  # fmt: skip
    page = as_user("bob").get(reverse("dashboards:person", args=[workspace.pk, survivor.pk])).content.decode()
    order, view = page.index("order_completed"), page.index("product_viewed")
    assert order < view  # newest first, the anonymous view included
    assert "order-77" in page and "HTTP 400" in page and "Event · failed" in page
    assert f"Merged seam_{old.pk} into this person" in page and "absorbed" in page
    assert "u-ada-old" in page and "a-ada" in page
    assert "raw" in page and "Split identifiers" not in page  # support reads; admins split


def test_the_timeline_pages_by_cursor(as_user, shop, workspace):
    shop.send(*[track("product_viewed", ago(0, 60 - i), userId="u-many") for i in range(60)])
    person = Person.objects.get(customer_id="u-many")
    bob = as_user("bob")
    url = reverse("dashboards:person", args=[workspace.pk, person.pk])
    first = bob.get(url).context["timeline"]
    assert first.event_count == 50 and first.older
    second = bob.get(url, {"before": first.older}).context["timeline"]
    assert second.event_count == 10 and not second.older and second.newer_exists
    first_ids = {item.event.pk for item in first.items if item.event}
    assert not first_ids & {item.event.pk for item in second.items if item.event}


def test_the_timeline_costs_the_same_queries_for_a_longer_history(as_user, shop, workspace):
    shop.send(*[track("product_viewed", ago(0, 100 - i), userId="u-q") for i in range(5)])
    person = Person.objects.get(customer_id="u-q")
    bob, url = as_user("bob"), reverse("dashboards:person", args=[workspace.pk, person.pk])
    bob.get(url)
    few = queries(bob, url)
    shop.send(*[track("added_to_cart", ago(0, 50 - i), userId="u-q", anonymousId=f"a-q{i}") for i in range(45)])
    assert queries(bob, url) == few


def test_the_raw_payload_loads_on_demand(as_user, ada, workspace):
    event = Delivery.objects.filter(event__name="order_completed").get().event
    response = as_user("bob").get(reverse("dashboards:event-raw", args=[workspace.pk, event.pk]))
    data = response.json()
    assert data["event"]["properties"]["order_id"] == "order-77"
    assert data["deliveries"][0]["request"]["op"]["id"] == event.pk
    assert as_user("alice").get(reverse("dashboards:event-raw", args=[workspace.pk, event.pk])).status_code == 403


def test_an_admin_splits_identifiers_off_a_person(as_user, ada, workspace):
    survivor, _ = ada
    identity = survivor.identities.get(value="u-ada-old")
    carol = as_user("carol")
    response = carol.post(
        reverse("dashboards:person-split", args=[workspace.pk, survivor.pk]), {"identities": [identity.pk]}, follow=True
    )
    assert "Split off person" in response.content.decode()
    assert Person.objects.get(customer_id="u-ada-old", merged_into=None).pk != survivor.pk
    assert AuditEntry.objects.filter(action="split").exists()
    assert "split off" in carol.get(reverse("dashboards:person", args=[workspace.pk, survivor.pk])).content.decode()


# --- Deliveries, sources, audit ------------------------------------------------------------------------------


def test_an_admin_replays_a_dead_delivery(as_user, shop, workspace):
    shop.send(track("order_completed", ago(0), userId="u-1", properties={"order_id": "o-1"}))
    delivery = Delivery.objects.get(event__name="order_completed")
    Delivery.objects.filter(pk=delivery.pk).update(state="dead", attempts=12, last_status_code=503)
    carol = as_user("carol")
    page = carol.get(reverse("dashboards:deliveries", args=[workspace.pk])).content.decode()
    assert f'id="replay-{delivery.pk}"' in page
    response = carol.post(
        reverse("dashboards:delivery-replay", args=[workspace.pk]), {"delivery": delivery.pk}, follow=True
    )
    assert "1 delivery queued to send again" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    assert AuditEntry.objects.get(action="replay").details["delivery_ids"] == [delivery.pk]


def test_an_admin_replays_every_dead_delivery_at_once(as_user, shop, workspace):
    shop.send(*[track("order_completed", ago(0), userId=f"u-{i}", properties={"order_id": f"o-{i}"}) for i in range(3)])
    Delivery.objects.filter(workspace=workspace, kind="event").update(state="dead", attempts=12)
    as_user("carol").post(reverse("dashboards:delivery-replay", args=[workspace.pk]), {"state": "dead"})
    assert not Delivery.objects.filter(state="dead").exists()


def test_an_admin_issues_and_revokes_write_keys(as_user, workspace, server_source):
    carol = as_user("carol")
    url = reverse("dashboards:source-key", args=[workspace.pk])
    response = carol.post(url, {"source": server_source.pk, "action": "issue"}, follow=True)
    page = response.content.decode()
    assert 'id="new-key"' in page and "sk_" in page
    assert "new-key" not in carol.get(reverse("dashboards:sources", args=[workspace.pk])).content.decode()  # once
    carol.post(url, {"source": server_source.pk, "action": "revoke"})
    server_source.refresh_from_db()
    assert server_source.revoked_at is not None
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["key_issued", "key_revoked"]
    assert "key_revoked" not in carol.get(reverse("dashboards:audit", args=[workspace.pk])).content.decode()
    assert "Key revoked" in carol.get(reverse("dashboards:audit", args=[workspace.pk])).content.decode()


def test_an_admin_recomputes_the_figures_now(as_user, shop, workspace):
    shop.send(track("product_viewed", ago(0), anonymousId="a-1"), source="browser")
    response = as_user("carol").post(reverse("dashboards:health-refresh", args=[workspace.pk]), follow=True)
    assert "Figures recomputed" in response.content.decode()
    assert AuditEntry.objects.filter(action="rollup_refreshed").exists()
