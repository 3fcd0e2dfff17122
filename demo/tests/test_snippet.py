"""seam.js in headless Chromium against a live Seam: what the browser stores, and what Seam receives."""

from datetime import UTC, datetime

import pytest

from demo.tests.browsing import events_wait, snippet_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("demo.tests.urls")]

FAST = {"flushInterval": 50}


def test_it_keeps_the_anonymous_id_across_pages_and_reloads(live_server, demo_sources, tab):
    tab.goto(snippet_url(live_server.url, "First", **FAST))
    cookie = tab.cookie(live_server.url)
    anonymous_id = cookie["value"]
    assert len(anonymous_id) == 36 and anonymous_id[14] == "4"  # a uuid v4
    assert cookie["path"] == "/" and cookie["sameSite"] == "Lax" and not cookie["secure"]
    days = (datetime.fromtimestamp(cookie["expires"], UTC) - datetime.now(UTC)).days
    assert 364 <= days <= 365
    assert tab.storage("ajs_anonymous_id") == f'"{anonymous_id}"'  # mirrored, as the official SDK does

    tab.goto(snippet_url(live_server.url, "Second", **FAST))
    tab.page.reload()
    tab.page.wait_for_function("window.seam && window.seam.loaded")
    pages = events_wait(3, type="page")
    assert [event.context["page"]["title"] for event in pages] == ["First", "Second", "Second"]
    assert {event.anonymous_id for event in pages} == {anonymous_id}
    assert tab.cookie(live_server.url)["value"] == anonymous_id
