"""Customer.io's own browser SDK (@customerio/cdp-analytics-browser 0.5.11, from npm) sending to Seam.

Seam answers the settings request the SDK makes on load (GET {cdnURL}/v1/projects/{writeKey}/settings)
with its own address, so the SDK's events come back to Seam; nothing goes to cdp.customer.io.
"""

import pytest

from demo.tests.browsing import events_wait

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("demo.tests.urls")]


@pytest.mark.parametrize("bundle", ["npm-umd", "standalone"])
def test_it_delivers_the_official_sdks_track_to_seam(live_server, demo_sources, sdk_dist, tab, bundle):
    requests = []
    tab.context.on("request", lambda request: requests.append(request.url))
    tab.page.goto(f"{live_server.url}/t/sdk/?bundle={bundle}")
    tab.page.evaluate("cioanalytics.track('sdk_event', {product_id: 'p-1', price: 9.5})")

    (event,) = events_wait(1, type="track")
    assert (event.name, event.properties) == ("sdk_event", {"product_id": "p-1", "price": 9.5})
    assert event.context["library"] == {"name": "analytics.js", "version": "next-0.5.11"}
    assert event.message_id.startswith("ajs-next-")
    assert event.anonymous_id == tab.cookie(live_server.url)["value"]
    assert f"{live_server.url}/v1/projects/pk_demo_browser_write_key/settings" in requests
    assert all(url.startswith(live_server.url) for url in requests), requests  # nothing left the machine
    assert tab.errors == []
