"""Client timestamps: parsing every form SDKs send, and correcting for client clock skew."""

import re
from datetime import UTC, datetime, timedelta

# Unix times above this are milliseconds: as seconds it would be the year 5138, as
# milliseconds it is 1973 — no real event sits on the wrong side of that line.
MILLISECONDS_THRESHOLD = 100_000_000_000
_NUMERIC = re.compile(r"-?\d+(\.\d+)?")
_MIN = datetime(1970, 1, 1, tzinfo=UTC)
_MAX = datetime(9999, 1, 1, tzinfo=UTC)


class TimestampError(ValueError):
    """A value that is not a timestamp in any form we accept."""


def timestamp_parse(value: object) -> datetime | None:
    """An ISO-8601 string (any offset; no offset means UTC), unix seconds or unix milliseconds → UTC.

    None means absent. Raises TimestampError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TimestampError("must be an ISO-8601 string or a unix time")
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC.fullmatch(text):
            return _from_unix(float(text))
        if not 10 <= len(text) <= 40:
            raise TimestampError("must be an ISO-8601 string or a unix time")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise TimestampError("must be an ISO-8601 string or a unix time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
        if not _MIN <= parsed < _MAX:
            raise TimestampError("is out of range")
        return parsed
    if isinstance(value, int | float):
        return _from_unix(float(value))
    raise TimestampError("must be an ISO-8601 string or a unix time")


def _from_unix(number: float) -> datetime:
    if number != number or number in (float("inf"), float("-inf")):
        raise TimestampError("must be a finite number")
    seconds = number / 1000 if abs(number) >= MILLISECONDS_THRESHOLD else number
    if not 0 <= seconds < 253_402_300_799:  # 9999-12-31T23:59:59Z
        raise TimestampError("is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def timestamp_correct(
    *,
    received_at: datetime,
    original: datetime | None,
    sent_at: datetime | None,
    max_future: timedelta,
) -> tuple[datetime, bool]:
    """When the event happened by the server's clock, and whether it had to be clamped.

    Segment's rule: timestamp = receivedAt - (sentAt - originalTimestamp), which cancels the
    client clock's offset. A result further ahead than `max_future` is clamped to receivedAt.
    """
    if original is None:
        return received_at, False
    try:
        corrected = received_at - (sent_at - original) if sent_at is not None else original
    except OverflowError:  # a sentAt thousands of years from originalTimestamp: no usable clock
        return received_at, True
    if corrected > received_at + max_future:
        return received_at, True
    return corrected, False
