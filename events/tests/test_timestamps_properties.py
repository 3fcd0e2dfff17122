"""More property tests (hypothesis) for the timestamp parser and skew correction: hostile inputs included."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.ingest.timestamps import TimestampError, timestamp_correct, timestamp_parse

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1), timezones=offsets)
hostile = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Nd", "Pd", "Zs", "Lu"]), max_size=45),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.binary(max_size=10),
)


@given(moments)
def test_iso_with_any_offset_parses_to_the_same_instant_in_utc(moment):
    parsed = timestamp_parse(moment.isoformat())
    assert parsed == moment and parsed.tzinfo == UTC


@given(hostile)
def test_anything_either_parses_to_utc_in_range_or_raises_timestamp_error(value):
    try:
        parsed = timestamp_parse(value)
    except TimestampError:
        return
    assert parsed.tzinfo == UTC
    assert datetime(1970, 1, 1, tzinfo=UTC) <= parsed <= datetime.max.replace(tzinfo=UTC)


@given(st.text().map(lambda text: text + "\ud800"))
def test_lone_surrogates_are_refused_cleanly(value):
    with pytest.raises(TimestampError):
        timestamp_parse(value)


@given(
    received=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    original=st.one_of(st.none(), moments),
    sent=st.one_of(st.none(), moments),
    future=st.integers(min_value=0, max_value=3600),
)
def test_a_corrected_timestamp_is_never_further_ahead_than_allowed(received, original, sent, future):
    corrected, clamped = timestamp_correct(
        received_at=received, original=original, sent_at=sent, max_future=timedelta(seconds=future)
    )
    assert corrected <= received + timedelta(seconds=future)
    if clamped:
        assert corrected == received
    if original is None:
        assert (corrected, clamped) == (received, False)
