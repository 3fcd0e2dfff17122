"""seam.js in headless Chromium against a live Seam: what the browser keeps, and what Seam stores."""

import json
from datetime import UTC, datetime

import pytest

from demo.tests.browsing import QUEUE_EMPTY, events_settle, events_wait, snippet_url
from events.models import Event
from identities.selectors import event_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("demo.tests.urls")]

FAST = {"flushInterval": 50}
SEAM_KEYS = "Object.keys(localStorage).filter(key => key.startsWith('ajs_') || key.startsWith('seam_'))"


def test_it_keeps_the_anonymous_id_across_pages_and_reloads(live_server, demo_sources, tab):
    tab.goto(snippet_url(live_server.url, "First", **FAST))
    cookie = tab.cookie(live_server.url)
    anonymous_id = cookie["value"]
    assert len(anonymous_id) == 36 and anonymous_id[14] == "4"  # a uuid v4
    assert cookie["path"] == "/" and cookie["sameSite"] == "Lax" and not cookie["secure"]
    days = (datetime.fromtimestamp(cookie["expires"], UTC) - datetime.now(UTC)).days
    assert 364 <= days <= 365
    assert tab.storage("ajs_anonymous_id") == f'"{anonymous_id}"'  # mirrored as a JSON string, like the SDK

    tab.goto(snippet_url(live_server.url, "Second", **FAST))
    tab.page.reload()
    tab.page.wait_for_function("window.seam && window.seam.loaded")
    pages = events_wait(3, type="page")
    assert [event.context["page"]["title"] for event in pages] == ["First", "Second", "Second"]
    assert {event.anonymous_id for event in pages} == {anonymous_id}
    assert tab.cookie(live_server.url)["value"] == anonymous_id


def test_it_speaks_the_official_sdks_wire_format(live_server, demo_sources, tab):
    with tab.page.expect_request(lambda request: request.url.endswith("/v1/b")) as posted:
        tab.goto(snippet_url(live_server.url, "Landing", **FAST) + "&utm_source=news&utm_campaign=spring")
    request = posted.value
    assert request.headers["content-type"] == "text/plain" and "authorization" not in request.headers
    body = json.loads(request.post_data)
    assert set(body) == {"batch", "writeKey", "sentAt"} and body["writeKey"] == "pk_demo_browser_write_key"
    (message,) = body["batch"]
    assert set(message) == {"type", "messageId", "anonymousId", "timestamp", "context", "integrations", "properties"}
    assert message["timestamp"].endswith("Z") and body["sentAt"].endswith("Z")
    context = message["context"]
    assert context["campaign"] == {"source": "news", "name": "spring"}
    assert context["library"] == {"name": "seam.js", "version": "0.1.0"}
    assert context["locale"] and context["userAgent"].startswith("Mozilla/5.0")
    assert set(context["page"]) == {"path", "referrer", "search", "title", "url"}
    assert message["properties"] == context["page"]

    (event,) = events_wait(1)
    assert (event.type, event.message_id, event.anonymous_id) == ("page", message["messageId"], message["anonymousId"])
    assert event.context == context


def test_it_rereads_the_ids_on_every_call(live_server, demo_sources, tab):
    tab.goto(snippet_url(live_server.url, **FAST))
    anonymous_id = tab.cookie(live_server.url)["value"]

    tab.context.clear_cookies()  # the localStorage copy restores it
    tab.page.evaluate("seam.track('cookie_cleared')")
    assert events_wait(1, name="cookie_cleared")[0].anonymous_id == anonymous_id
    assert tab.cookie(live_server.url)["value"] == anonymous_id

    # Set by someone else (the server, another tab): the cookie wins and the copy follows.
    tab.context.add_cookies([{"name": "ajs_anonymous_id", "value": "set-elsewhere", "url": live_server.url}])
    tab.page.evaluate("seam.track('cookie_replaced')")
    assert events_wait(1, name="cookie_replaced")[0].anonymous_id == "set-elsewhere"
    assert tab.storage("ajs_anonymous_id") == '"set-elsewhere"'


def test_it_sends_one_page_view_per_spa_url(live_server, demo_sources, tab):
    tab.goto(snippet_url(live_server.url, "SPA", **FAST))
    tab.page.evaluate(
        """() => {
            history.pushState({}, "", "/t/snippet/?view=a");
            history.pushState({}, "", "/t/snippet/?view=a");
            history.replaceState({}, "", "/t/snippet/?view=a#details");
            seam.page();
        }"""
    )
    events_wait(2, type="page")
    tab.page.evaluate("""history.pushState({}, "", "/t/snippet/?view=b")""")
    events_wait(3, type="page")
    tab.page.go_back()  # popstate, back to view a
    events_wait(4, type="page")

    pages = events_settle(0.3, type="page")
    assert [event.properties["search"] for event in pages][1:] == ["?view=a", "?view=b", "?view=a"]
    assert pages[2].context["page"]["referrer"] == f"{live_server.url}/t/snippet/?view=a#details"


def test_it_waits_for_consent_and_then_sends_what_waited(live_server, demo_sources, tab):
    sent = []
    tab.page.on("request", lambda request: "/v1/" in request.url and sent.append(request.url))
    tab.goto(snippet_url(live_server.url, consent="wait", **FAST))
    tab.page.evaluate("seam.track('while_waiting'); seam.identify({email: 'ada@example.com'})")

    assert events_settle(0.4) == []
    assert sent == []
    assert tab.context.cookies() == []
    assert tab.page.evaluate(SEAM_KEYS) == []

    tab.page.evaluate("seam.consent(true)")
    events = events_wait(3)
    anonymous_id = tab.cookie(live_server.url)["value"]
    assert [event.type for event in events] == ["page", "track", "identify"]
    assert {event.anonymous_id for event in events} == {anonymous_id}
    assert tab.storage("ajs_user_traits") == '{"email":"ada@example.com"}'


def test_it_drops_everything_when_consent_is_denied(live_server, demo_sources, tab):
    tab.goto(snippet_url(live_server.url, "Before", **FAST))  # a visitor from before the consent banner
    events_wait(1)
    assert tab.cookie(live_server.url) is not None

    sent = []
    tab.page.on("request", lambda request: "/v1/" in request.url and sent.append(request.url))
    tab.goto(snippet_url(live_server.url, "Banner", consent="wait", **FAST))
    tab.page.evaluate(
        """() => {
            seam.track('while_waiting');
            seam.consent(false);
            seam.track('after_denial');
            seam.identify('user-42');
            history.pushState({}, "", "/t/snippet/?view=next");
        }"""
    )

    assert len(events_settle(0.4)) == 1
    assert sent == []
    assert tab.context.cookies() == []  # the earlier visit's cookie is gone too
    assert tab.page.evaluate(SEAM_KEYS) == []


def test_it_carries_the_anonymous_id_to_a_linked_domain(live_server, demo_sources, tab):
    shop = live_server.url  # http://localhost:port
    checkout = shop.replace("localhost", "127.0.0.1")  # another site, as far as the browser knows
    tab.goto(snippet_url(shop, "Shop", linkDomains=["127.0.0.1"], **FAST))
    anonymous_id = tab.cookie(shop)["value"]
    tab.page.evaluate(
        """([checkout, same]) => {
            for (const [id, href] of [["checkout", checkout], ["same", same], ["other", "https://example.org/"]]) {
                const link = Object.assign(document.createElement("a"), {id, href, textContent: id});
                document.body.append(link);
            }
            window.stay = event => event.preventDefault();
            document.addEventListener("click", window.stay);
        }""",
        [snippet_url(checkout, "Checkout", **FAST), snippet_url(shop, "Same site", **FAST)],
    )
    for link in ("checkout", "same", "other"):
        tab.page.click(f"#{link}")
    hrefs = tab.page.evaluate(
        "[...document.querySelectorAll('a')].map(a => new URL(a.href).searchParams.get('seam_aid'))"
    )
    assert hrefs == [anonymous_id, None, None]  # only the listed domain

    tab.page.evaluate("document.removeEventListener('click', window.stay)")
    tab.page.click("#checkout")
    tab.page.wait_for_url(f"{checkout}/**")
    tab.page.wait_for_function("window.seam && window.seam.loaded")
    assert "seam_aid" not in tab.page.url  # taken out of the address bar
    assert tab.cookie(checkout)["value"] == anonymous_id
    arrived = [event for event in events_wait(2, type="page") if event.context["page"]["title"] == "Checkout"]
    assert arrived[0].anonymous_id == anonymous_id
    assert "seam_aid" not in arrived[0].context["page"]["url"]


def test_it_sends_a_beacon_when_the_page_is_left(live_server, demo_sources, tab):
    # Playwright does not report an unloading page's beacons, so the page keeps a note of them.
    tab.page.add_init_script(
        """const send = navigator.sendBeacon.bind(navigator);
        navigator.sendBeacon = (url, data) => {
            const sent = send(url, data);
            sessionStorage.setItem("beacons", JSON.stringify([{url, data: String(data), sent}]));
            return sent;
        };"""
    )
    tab.goto(snippet_url(live_server.url, flushInterval=60_000))  # nothing would go out for a minute
    tab.page.evaluate("seam.track('leaving')")
    tab.page.goto(f"{live_server.url}/healthz")  # same origin, so its sessionStorage shows the note

    events = events_wait(2)
    assert [event.type for event in events] == ["page", "track"]
    (beacon,) = json.loads(tab.page.evaluate("sessionStorage.getItem('beacons')"))
    assert beacon["url"] == f"{live_server.url}/v1/b" and beacon["sent"]
    assert [message["messageId"] for message in json.loads(beacon["data"])["batch"]] == [
        event.message_id for event in events
    ]


def test_it_retries_offline_messages_and_stores_them_once(live_server, demo_sources, tab):
    tab.goto(snippet_url(live_server.url, **FAST))
    events_wait(1, type="page")
    tab.context.set_offline(True)
    with tab.page.expect_event("requestfailed"):
        tab.page.evaluate("seam.track('sent_offline')")
    (queued,) = json.loads(tab.storage("seam_queue"))
    assert queued["event"] == "sent_offline"
    assert not Event.objects.filter(name="sent_offline").exists()

    tab.context.set_offline(False)
    (event,) = events_wait(1, name="sent_offline")
    assert event.message_id == queued["messageId"]
    # The row is committed before the response reaches the browser: wait for seam.js to hear it.
    tab.page.wait_for_function(QUEUE_EMPTY, timeout=5000)
    assert tab.storage("seam_queue") == "[]"
    assert len(events_settle(0.3, name="sent_offline")) == 1


def test_it_retries_a_5xx_with_the_same_message_ids(live_server, demo_sources, tab):
    batches = []

    def first_answer_lost(route):
        batches.append([message["messageId"] for message in json.loads(route.request.post_data)["batch"]])
        if len(batches) == 1:
            route.fetch()  # Seam stores it, but the browser only hears a 503
            route.fulfill(status=503, json={"code": "unavailable", "message": "try again"})
        else:
            route.continue_()

    tab.page.route("**/v1/b", first_answer_lost)
    tab.goto(snippet_url(live_server.url, **FAST))
    # Waiting in Playwright, not in the database: the route handler only runs while Playwright is called.
    tab.page.wait_for_function(QUEUE_EMPTY)

    assert len(batches) == 2 and batches[0] == batches[1]
    assert [event.message_id for event in events_settle(0.2)] == batches[0]


def test_it_identifies_with_the_anonymous_id_and_resets(live_server, demo_sources, tab):
    tab.goto(snippet_url(live_server.url, **FAST))
    tab.page.evaluate("seam.track('before_login')")
    anonymous_id = tab.cookie(live_server.url)["value"]
    tab.page.evaluate("seam.identify('user-42', {email: 'ada@example.com'}); seam.track('after_login')")

    (identify,) = events_wait(1, type="identify")
    assert (identify.user_id, identify.anonymous_id) == ("user-42", anonymous_id)
    assert identify.traits == {"email": "ada@example.com"}
    events_wait(2, user_id="")  # the page view and the track: their batch may still be in flight
    before = Event.objects.exclude(pk=identify.pk).filter(user_id="")
    assert {event.name for event in before} == {"", "before_login"}  # the page view and the track
    assert {event.anonymous_id for event in before} == {anonymous_id}
    after = events_wait(1, name="after_login")[0]
    assert (after.user_id, after.anonymous_id) == ("user-42", anonymous_id)
    person = event_person(event=identify)
    assert person.customer_id == "user-42"
    assert {event_person(event=event) for event in [*before, after]} == {person}

    tab.page.evaluate("seam.reset(); seam.track('after_logout')")
    logged_out = events_wait(1, name="after_logout")[0]
    assert logged_out.user_id == "" and logged_out.anonymous_id not in ("", anonymous_id)
    assert tab.cookie(live_server.url, "ajs_user_id") is None
