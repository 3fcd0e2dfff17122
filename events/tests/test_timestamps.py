from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.ingest.timestamps import TimestampError, timestamp_correct, timestamp_parse
from events.models import Event

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-20T12:00:00Z",
        "2026-11-20T12:00:00.000Z",
        "2026-11-20T13:00:00+01:00",
        "2026-11-20T07:00:00-0500",
        "2026-11-20T12:00:00",
        "2026-11-20 12:00:00+00:00",
        NOON.timestamp(),
        int(NOON.timestamp()),
        int(NOON.timestamp() * 1000),
        str(int(NOON.timestamp())),
        str(int(NOON.timestamp() * 1000)),
    ],
)
def test_it_parses_every_timestamp_form_to_utc(value):
    assert timestamp_parse(value) == NOON


@pytest.mark.parametrize("value", ["", "noon", "2026-13-40T00:00:00Z", True, [], {}, float("nan"), float("inf"), -5])
def test_it_refuses_what_is_not_a_timestamp(value):
    with pytest.raises(TimestampError):
        timestamp_parse(value)


def test_absent_is_none():
    assert timestamp_parse(None) is None


# Unix seconds and milliseconds are told apart by magnitude, which is unambiguous from
# March 1973 (1e11 ms) to the year 5138 (1e11 s): every real event is in between.
@given(st.datetimes(min_value=datetime(1973, 3, 4), max_value=datetime(5000, 1, 1), timezones=st.just(UTC)))
def test_seconds_milliseconds_and_iso_agree(moment):
    moment = moment.replace(microsecond=0)
    assert timestamp_parse(moment.isoformat()) == moment
    assert timestamp_parse(int(moment.timestamp())) == moment
    assert timestamp_parse(int(moment.timestamp()) * 1000) == moment


@given(st.one_of(st.text(max_size=50), st.integers(), st.floats(), st.booleans(), st.none()))
def test_the_parser_only_ever_returns_utc_or_refuses(value):
    try:
        parsed = timestamp_parse(value)
    except TimestampError:
        return
    assert parsed is None or parsed.tzinfo == UTC


def test_skew_correction_cancels_a_client_clock_offset():
    # The client's clock runs 2 hours fast: it says it sent at 14:00:05 an event from 14:00:00.
    received = NOON + timedelta(seconds=7)
    corrected, clamped = timestamp_correct(
        received_at=received,
        original=NOON + timedelta(hours=2),
        sent_at=NOON + timedelta(hours=2, seconds=5),
        max_future=timedelta(minutes=10),
    )
    assert corrected == NOON + timedelta(seconds=2)
    assert not clamped


def test_without_sent_at_the_client_timestamp_stands():
    corrected, clamped = timestamp_correct(
        received_at=NOON, original=NOON - timedelta(days=1), sent_at=None, max_future=timedelta(minutes=10)
    )
    assert corrected == NOON - timedelta(days=1) and not clamped


def test_a_timestamp_far_in_the_future_is_clamped_and_flagged():
    corrected, clamped = timestamp_correct(
        received_at=NOON, original=NOON + timedelta(days=3), sent_at=None, max_future=timedelta(minutes=10)
    )
    assert corrected == NOON and clamped


def test_an_absurd_sent_at_is_clamped_not_crashed():
    corrected, clamped = timestamp_correct(
        received_at=NOON,
        original=datetime(1970, 1, 2, tzinfo=UTC),
        sent_at=datetime(9998, 1, 1, tzinfo=UTC),
        max_future=timedelta(minutes=10),
    )
    assert corrected == NOON and clamped


def test_ingest_applies_skew_correction_with_a_batch_sent_at(api):
    batch = {
        "batch": [{"type": "track", "userId": "u", "event": "e", "timestamp": "2030-01-01T10:00:00Z"}],
        "sentAt": "2030-01-01T10:00:30Z",
    }
    assert api.post("/v1/batch", batch, format="json").status_code == 200
    event = Event.objects.get()
    assert event.original_timestamp == datetime(2030, 1, 1, 10, 0, tzinfo=UTC)
    assert event.sent_at == datetime(2030, 1, 1, 10, 0, 30, tzinfo=UTC)
    assert event.timestamp == event.received_at - timedelta(seconds=30)
    assert "timestamp_clamped" not in event.flags


def test_ingest_clamps_and_flags_a_future_timestamp_without_sent_at(api):
    api.post("/v1/track", {"userId": "u", "event": "e", "timestamp": "2099-01-01T00:00:00Z"}, format="json")
    event = Event.objects.get()
    assert event.timestamp == event.received_at
    assert event.flags == ["timestamp_clamped"]


def test_ingest_without_any_timestamp_uses_the_receive_time(api):
    api.post("/v1/track", {"userId": "u", "event": "e"}, format="json")
    event = Event.objects.get()
    assert event.timestamp == event.received_at and event.original_timestamp is None


def test_original_timestamp_wins_over_timestamp(api):
    message = {
        "userId": "u",
        "event": "e",
        "originalTimestamp": "2026-11-20T12:00:00Z",
        "timestamp": "2026-11-21T12:00:00Z",
    }
    api.post("/v1/track", message, format="json")
    assert Event.objects.get().original_timestamp == NOON
