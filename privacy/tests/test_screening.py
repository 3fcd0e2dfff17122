"""PII hygiene at ingest: context.ip truncated by default (configurable)."""

import ipaddress
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from events.models import Event, RejectedMessage
from privacy.identifiers import identifier_digest
from privacy.models import SuppressedIdentifier
from privacy.screening import ip_truncate
from tests.plans import query_plan


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("203.0.113.9", "203.0.113.0"),
        (" 198.51.100.255 ", "198.51.100.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("::ffff:198.51.100.7", "198.51.100.0"),  # an IPv4 client seen through an IPv6 socket
    ],
)
def test_it_truncates_context_ip_by_default(api, raw, stored):
    api.post("/v1/track", {"userId": "u-1", "event": "viewed", "context": {"ip": raw, "locale": "en"}}, format="json")
    assert Event.objects.get().context == {"ip": stored, "locale": "en"}


@pytest.mark.parametrize("raw", ["not-an-ip", "", 12, None, ["203.0.113.9"], "203.0.113.9:443"])
def test_it_drops_what_it_cannot_truncate(api, raw):
    api.post("/v1/track", {"userId": "u-1", "event": "viewed", "context": {"ip": raw}}, format="json")
    assert "ip" not in Event.objects.get().context


def test_a_batch_context_ip_is_truncated_in_every_item(api):
    batch = {"context": {"ip": "203.0.113.77"}, "batch": [{"type": "track", "userId": "u", "event": "e"}] * 2}
    batch["batch"] = [{**item, "messageId": f"m-{n}"} for n, item in enumerate(batch["batch"])]
    assert api.post("/v1/batch", batch, format="json").status_code == 200
    assert {event.context["ip"] for event in Event.objects.all()} == {"203.0.113.0"}


def test_a_rejected_message_keeps_its_payload_but_not_the_full_address(api):
    batch = [
        {"type": "track", "userId": "u", "context": {"ip": "203.0.113.9"}},
        {"type": "track", "userId": "u", "event": "e"},
    ]
    assert api.post("/v1/batch", {"batch": batch}, format="json").status_code == 200
    assert RejectedMessage.objects.get().payload["context"] == {"ip": "203.0.113.0"}


@pytest.mark.parametrize(("handling", "expected"), [("keep", {"ip": "203.0.113.9"}), ("drop", {})])
def test_ip_handling_is_configurable(api, settings, handling, expected):
    settings.SEAM_IP_HANDLING = handling
    api.post("/v1/track", {"userId": "u-1", "event": "viewed", "context": {"ip": "203.0.113.9"}}, format="json")
    assert Event.objects.get().context == expected


@given(st.ip_addresses())
def test_a_truncated_address_is_the_network_of_the_original(address):
    truncated = ipaddress.ip_address(ip_truncate(str(address)))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    assert address in ipaddress.ip_network(f"{truncated}/{prefix}")
    assert int(truncated) & ((1 << (address.max_prefixlen - prefix)) - 1) == 0


def test_the_suppression_list_is_probed_per_identifier_even_on_a_table_never_analyzed(api, workspace):
    # Each request screens its identifiers against the list: reading the whole list instead (an index's
    # workspace prefix, every digest a filter, as identities' owners look-up once did) would cost each
    # request more as deletions accumulate. (The ORM's `__in` form passes this too, today.)
    if connection.vendor != "postgresql":
        pytest.skip("a Postgres query plan")
    SuppressedIdentifier.objects.bulk_create(
        SuppressedIdentifier(workspace=workspace, digest=identifier_digest(f"gone-{n}")) for n in range(3_000)
    )
    with CaptureQueriesContext(connection) as queries:
        for user_id in ("gone-7", "still-here"):
            api.post("/v1/track", {"userId": user_id, "anonymousId": f"a-{user_id}", "event": "e"}, format="json")
    assert list(Event.objects.values_list("user_id", flat=True)) == ["still-here"]
    assert RejectedMessage.objects.get().code == "suppressed"
    lookups = [query["sql"] for query in queries.captured_queries if "privacy_suppressedidentifier" in query["sql"]]
    assert len(lookups) == 2  # one per request
    plan = query_plan(lookups[0], analyze=True)
    removed = [int(count) for count in re.findall(r"Rows Removed by (?:Join )?Filter: (\d+)", plan)]
    read = [int(rows) for rows in re.findall(r"Index (?:Only )?Scan .*actual time=\S+ rows=(\d+)", plan)]
    assert sum(removed) == 0 and read and max(read) <= 1, plan
