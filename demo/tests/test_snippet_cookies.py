"""seam.js's anonymous-id cookie where one loopback host name is not enough: cookieDomain, and https."""

import pytest

from demo.tests.browsing import QUEUE_EMPTY, events_wait, snippet_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("demo.tests.urls")]

FAST = {"flushInterval": 50}


@pytest.fixture
def shop_hosts(live_server, settings) -> tuple[str, str]:
    """Two subdomains of shop.localhost on the live server: Chromium resolves every *.localhost name to loopback."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".shop.localhost"]
    return tuple(live_server.url.replace("localhost", f"{sub}.shop.localhost") for sub in ("www", "checkout"))


def test_it_shares_the_anonymous_id_across_subdomains_of_the_cookie_domain(shop_hosts, demo_sources, tab):
    www, checkout = shop_hosts
    tab.goto(snippet_url(www, "Shop", cookieDomain="shop.localhost", **FAST))
    cookie = tab.cookie(www)
    assert cookie["domain"] == ".shop.localhost"

    tab.goto(snippet_url(checkout, "Checkout", cookieDomain="shop.localhost", **FAST))
    assert tab.cookie(checkout)["value"] == cookie["value"]
    assert {event.anonymous_id for event in events_wait(2, type="page")} == {cookie["value"]}


def test_it_keeps_the_cookie_on_the_pages_own_host_without_a_cookie_domain(shop_hosts, demo_sources, tab):
    www, checkout = shop_hosts
    tab.goto(snippet_url(www, "Shop", **FAST))
    cookie = tab.cookie(www)
    assert cookie["domain"] == "www.shop.localhost"

    tab.goto(snippet_url(checkout, "Checkout", **FAST))
    assert tab.cookie(checkout)["value"] != cookie["value"]  # another site's visitor, as far as Seam can tell


def test_it_marks_the_cookie_secure_on_https(live_server, demo_sources, tab):
    # Chromium thinks it talks to https://seam.test; Playwright hands each request to the plain-http live server.
    https = "https://seam.test"
    tab.page.route(
        f"{https}/**",
        lambda route: route.fulfill(response=route.fetch(url=route.request.url.replace(https, live_server.url))),
    )
    tab.goto(snippet_url(https, "Secure", apiHost=https, **FAST))
    cookie = tab.cookie(https)
    assert cookie["secure"] and cookie["sameSite"] == "Lax"
    # Waiting in Playwright, not in the database: the route handler that carries the batch to the live
    # server only runs while Playwright is called (CI once saw the page view never leave the browser).
    tab.page.wait_for_function(QUEUE_EMPTY, timeout=10_000)
    (event,) = events_wait(1, type="page")
    assert event.anonymous_id == cookie["value"]
    assert event.context["page"]["url"].startswith(f"{https}/")
