"""The emulator's notion of "now": wall-clock time plus an offset that tests can move."""

import threading
import time
from collections.abc import Callable


class Clock:
    """Unix time with an adjustable offset.

    The contract's windows (anonymous events kept 30 days, attached up to 5 minutes after an identify) are
    measured on this clock, so a test can move time forward instead of sleeping.
    """

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._source() + self._offset

    @property
    def offset_seconds(self) -> float:
        with self._lock:
            return self._offset

    def set_offset(self, seconds: float) -> None:
        with self._lock:
            self._offset = float(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += float(seconds)
