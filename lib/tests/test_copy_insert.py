"""rows_insert: COPY or one INSERT on Postgres, bulk_create on SQLite; the same rows, conflicts and order
whichever way."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import IntegrityError, models, transaction
from ulid import ULID

from events.models import Event
from forwarding.models import Delivery
from lib.copy_insert import COPY_FROM_ROWS, _json_values, rows_insert

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 4, 12, 30, 15, 123456, tzinfo=UTC)
ROWS = COPY_FROM_ROWS + 5  # enough for COPY on Postgres
# Both ways on Postgres: one INSERT … VALUES below COPY_FROM_ROWS rows, COPY from it on.
SIZES = pytest.mark.parametrize("rows", [COPY_FROM_ROWS - 1, ROWS], ids=["values", "copy"])


def event(server_source, n: int, **fields) -> Event:
    return Event(
        id=str(ULID()),
        workspace_id=server_source.workspace_id,
        source=server_source,
        type="track",
        name=f"event {n}",
        message_id=f"m-{n}",
        properties={"n": n, "text": 'quotes " and \\ backslash\ttab\nnewline, ünïcode', "nested": [{"a": None}]},
        received_at=AT,
        timestamp=AT + timedelta(seconds=n),
        **fields,
    )


@SIZES
def test_it_stores_every_field_as_bulk_create_would(server_source, rows):
    events = [event(server_source, n, received_properties=None if n % 2 else {"was": n}) for n in range(rows)]
    assert rows_insert(events) is None
    stored = {row.pk: row for row in Event.objects.all()}
    assert len(stored) == rows
    for original in events:
        row = stored[original.pk]
        for field in Event._meta.concrete_fields:
            assert getattr(row, field.attname) == getattr(original, field.attname), field.name
        assert not original._state.adding


@SIZES
def test_it_skips_conflicting_rows_and_answers_which_went_in(server_source, rows):
    rows_insert([event(server_source, n) for n in range(rows)])
    again = [event(server_source, n) for n in range(5, 5 + rows)]  # all but the last 5 already stored
    inserted = rows_insert(again, ignore_conflicts=True)
    assert inserted == {row.pk for row in again[rows - 5 :]}
    assert Event.objects.count() == rows + 5


def delivery(workspace, name: str, **fields) -> Delivery:
    return Delivery(
        workspace=workspace,
        lane="p:1",
        kind="event",
        request={"op": {"name": name}},
        next_attempt_at=AT,
        created_at=AT,
        **fields,
    )


@SIZES
def test_generated_ids_rise_in_the_order_given(workspace, rows):
    names = [f"d-{n}" for n in reversed(range(rows))]
    rows_insert([delivery(workspace, name) for name in names])
    assert [delivery.request["op"]["name"] for delivery in Delivery.objects.order_by("pk")] == names


@SIZES
def test_instances_get_the_ids_generated_for_them(workspace, rows):
    deliveries = [delivery(workspace, f"d-{n}") for n in range(rows)]
    rows_insert(deliveries)
    stored = dict(Delivery.objects.values_list("pk", "request"))
    assert [stored[delivery.pk]["op"]["name"] for delivery in deliveries] == [f"d-{n}" for n in range(rows)]


@SIZES
def test_what_orjson_refuses_and_timestamps_at_any_offset_are_stored_as_they_are(server_source, rows):
    paris = timezone(timedelta(hours=1))
    events = [event(server_source, n) for n in range(rows)]
    for n, row in enumerate(events):
        row.properties = {"beyond_64_bits": 2**70 + n}
        row.timestamp = datetime(2026, 12, 4, 13, n, tzinfo=paris)
    rows_insert(events)
    stored = {row.pk: row for row in Event.objects.all()}
    assert [stored[row.pk].properties["beyond_64_bits"] for row in events] == [2**70 + n for n in range(rows)]
    assert [stored[row.pk].timestamp for row in events] == [row.timestamp for row in events]
    assert stored[events[0].pk].timestamp == datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_only_fields_whose_values_json_carries_as_they_are_go_as_json():
    price = models.DecimalField(max_digits=6, decimal_places=2)
    price.set_attributes_from_name("price")
    assert _json_values([price]) is None  # Django converts a Decimal first: one placeholder per value instead
    assert [column for column, _ in _json_values(Event._meta.concrete_fields)] == [
        field.column for field in Event._meta.concrete_fields
    ]


def test_two_inserts_in_one_transaction_each_insert_their_own_rows(server_source):
    with transaction.atomic():
        first = rows_insert([event(server_source, n) for n in range(ROWS)], ignore_conflicts=True)
        second = rows_insert([event(server_source, n) for n in range(ROWS, 2 * ROWS)], ignore_conflicts=True)
    assert len(first) == len(second) == ROWS and not first & second
    assert Event.objects.count() == 2 * ROWS


def test_a_failed_insert_leaves_nothing_behind_for_the_next(server_source):
    rows_insert([event(server_source, n) for n in range(ROWS)])
    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert([event(server_source, n) for n in range(ROWS)])  # the same message ids: refused
    fresh = [event(server_source, n) for n in range(ROWS, 2 * ROWS)]
    assert rows_insert(fresh, ignore_conflicts=True) == {row.pk for row in fresh}
    assert Event.objects.count() == 2 * ROWS


def test_rows_of_another_shape_get_their_own_staging_table(workspace):
    # Without the primary key, then with it: two column lists for one table on one connection.
    rows_insert([delivery(workspace, f"auto-{n}") for n in range(ROWS)])
    given = [delivery(workspace, f"given-{n}", id=10_000 + n) for n in range(ROWS)]
    rows_insert(given)
    assert set(Delivery.objects.filter(request__op__name__startswith="given-").values_list("pk", flat=True)) == {
        row.pk for row in given
    }
    assert Delivery.objects.count() == 2 * ROWS


@pytest.mark.django_db(transaction=True)
def test_an_insert_after_a_rolled_back_one_on_a_fresh_connection_finds_its_staging_table(server_source):
    from django.db import connection

    connection.close()  # a fresh connection: no staging table yet
    with pytest.raises(RuntimeError), transaction.atomic():
        rows_insert([event(server_source, n) for n in range(ROWS)])
        raise RuntimeError("rolled back, and the new staging table with it")
    rows_insert([event(server_source, n) for n in range(ROWS, 2 * ROWS)])
    assert Event.objects.count() == ROWS


@pytest.mark.django_db(transaction=True)
def test_committed_inserts_leave_the_staging_table_empty_of_pages(server_source):
    # Temporary tables are never autovacuumed: rows the move deleted stayed as dead pages for the
    # connection's life (CONN_MAX_AGE), and every later move scanned them all (bench/ANALYSIS.md).
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("Postgres's staging tables")
    for start in range(0, 5 * ROWS, ROWS):
        rows_insert([event(server_source, n) for n in range(start, start + ROWS)])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(pg_relation_size(oid)), 0) FROM pg_class "
            "WHERE relname LIKE 'seam_copy_events_event_%%' AND relpersistence = 't' AND pg_table_is_visible(oid)"
        )
        tables, size = cursor.fetchone()
    assert tables == 1
    assert size == 0
    assert Event.objects.count() == 5 * ROWS
