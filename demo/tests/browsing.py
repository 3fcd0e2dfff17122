"""Helpers for the browser tests: a tab that remembers console errors, and waiting for stored events."""

import contextlib
import json
import time
from pathlib import Path
from urllib.parse import urlencode

from events.models import Event

QUEUE_EMPTY = "JSON.parse(localStorage.getItem('seam_queue') || '[]').length === 0"
SDK_DIR = Path(__file__).parent / "sdk"
SDK_DIST = SDK_DIR / "node_modules" / "@customerio" / "cdp-analytics-browser" / "dist" / "umd"


class Tab:
    """A page in a fresh browser context (its own cookies and storage) that remembers console errors."""

    def __init__(self, context) -> None:
        self.context = context
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def goto(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_function("window.seam && window.seam.loaded === true")

    def cookie(self, url: str, name: str = "ajs_anonymous_id") -> dict | None:
        return next((cookie for cookie in self.context.cookies(url) if cookie["name"] == name), None)

    def settle(self, timeout_ms: float = 5000) -> None:
        """Wait until seam.js has nothing left to send, so no request is still writing when the test's
        database is flushed (on Postgres, a TRUNCATE beside a live INSERT can deadlock)."""
        from playwright.sync_api import Error as PlaywrightError

        for page in self.context.pages:
            # Offline, closed or elsewhere: nothing it could still send in time.
            with contextlib.suppress(PlaywrightError):
                page.wait_for_function(f"!window.seam || !window.seam.loaded || {QUEUE_EMPTY}", timeout=timeout_ms)

    def storage(self, key: str) -> str | None:
        return self.page.evaluate("key => localStorage.getItem(key)", key)


def snippet_url(base: str, title: str = "Test page", **options) -> str:
    """A test-only page (demo/tests/urls.py) loading seam.js with these options."""
    return f"{base}/t/snippet/?{urlencode({'title': title, 'o': json.dumps(options)})}"


def events_wait(count: int, timeout: float = 10.0, **filters) -> list[Event]:
    """The stored events matching `filters`, once there are at least `count` (fails after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        events = list(Event.objects.filter(**filters).order_by("timestamp", "id"))
        if len(events) >= count or time.monotonic() > deadline:
            assert len(events) >= count, f"expected {count} events matching {filters}, got {len(events)}: {events}"
            return events
        time.sleep(0.05)


def events_settle(seconds: float = 0.5, **filters) -> list[Event]:
    """The stored events matching `filters` once any stray send has had `seconds` to land."""
    time.sleep(seconds)
    return list(Event.objects.filter(**filters).order_by("timestamp", "id"))
