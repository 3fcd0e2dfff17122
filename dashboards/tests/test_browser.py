"""The dashboards in headless Chromium: each persona logs in through the form and does their job.

Alice (marketer) reads the health dashboard, Bob (support) finds a customer and reads a raw payload,
Carol (admin) merges a duplicate and replays a dead delivery; Dave (not staff) cannot log in. Every
page must load without a JavaScript error in the console.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboards.services import health_rollup_refresh
from dashboards.tests.conftest import PASSWORD, identify, track
from forwarding.models import Delivery
from identities.models import Merge, Person
from segments.services import segments_snapshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ago(days: float = 0, minutes: float = 0) -> str:
    return (timezone.now() - timedelta(days=days, minutes=minutes)).isoformat()


class Session:
    """A browser tab that signs in as a persona, accepts confirm dialogs and remembers console errors."""

    def __init__(self, browser, base_url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1360, "height": 900})
        self.page = self.context.new_page()
        self.base = base_url
        self.errors: list[str] = []
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on("dialog", lambda dialog: dialog.accept())

    def login(self, username: str) -> None:
        self.page.goto(f"{self.base}/dashboards/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("#sign-in")
        self.page.wait_for_load_state()

    def goto(self, path: str):
        return self.page.goto(f"{self.base}{path}")

    def refused(self, path: str) -> int:
        """Open a page this persona may not see; the browser logs the 403 itself, which is no page error."""
        status = self.goto(path).status
        self.errors = [error for error in self.errors if f"status of {status}" not in error]
        return status

    def text(self, selector: str = "main") -> str:
        return self.page.inner_text(selector)


@pytest.fixture
def session(browser, live_server):
    sessions = []

    def open_as(username: str | None = None) -> Session:
        sessions.append(Session(browser, live_server.url))
        if username:
            sessions[-1].login(username)
        return sessions[-1]

    yield open_as
    for opened in sessions:
        opened.context.close()


@pytest.fixture
def store(shop, workspace, personas):
    """Ada (browsed, logged in, ordered), a visitor who left a cart, and Maria with two accounts."""
    shop.send(track("product_viewed", ago(2), anonymousId="a-ada", properties={"product_id": "p-1"}), source="browser")
    shop.send(identify(ago(2, -1), userId="u-ada", anonymousId="a-ada", traits={"email": "ada@example.com"}))
    shop.send(track("order_completed", ago(1), userId="u-ada", properties={"order_id": "order-77", "revenue": 29}))
    shop.send(track("added_to_cart", ago(0, 30), anonymousId="a-cart", properties={"cart_id": "c-1"}), source="browser")
    shop.send(identify(ago(5), userId="u-maria", anonymousId="a-m1", traits={"email": "maria.lopez@gmail.com"}))
    shop.send(identify(ago(3), userId="u-maria-2", anonymousId="a-m2", traits={"email": "marialopez+shop@gmail.com"}))
    health_rollup_refresh(workspace=workspace)
    segments_snapshot(workspace=workspace)
    return workspace


def test_each_persona_reaches_only_their_pages(session, store):
    alice = session("alice")
    assert f"/dashboards/{store.pk}/health/" in alice.page.url
    assert "Can this data be trusted?" in alice.text()
    nav = alice.text("nav.nav")
    assert "Health" in nav and "Duplicates" in nav and "Customers" not in nav and "Audit" not in nav
    assert alice.refused(f"/dashboards/{store.pk}/customers/") == 403

    bob = session("bob")
    assert f"/dashboards/{store.pk}/customers/" in bob.page.url
    assert "Health" not in bob.text("nav.nav")
    assert bob.refused(f"/dashboards/{store.pk}/health/") == 403

    carol = session("carol")
    assert {"Health", "Duplicates", "Customers", "Sources", "Audit"} <= set(carol.text("nav.nav").split())

    dave = session("dave")
    assert "staff account" in dave.text()
    assert dave.goto(f"/dashboards/{store.pk}/health/").url.startswith(f"{dave.base}/dashboards/login/")
    for opened in (alice, bob, carol, dave):
        assert opened.errors == []


def test_a_marketer_reads_the_health_dashboard_and_drills_into_a_segment(session, store):
    alice = session("alice")
    page = alice.page
    for metric in ("merge_rate", "identified_share", "unresolved", "duplicates"):
        assert page.locator(f"#metric-{metric} svg").count() == 1
    assert page.inner_text("#metric-duplicates .value") == "1"
    assert "product_viewed" in alice.text("#volume")
    assert "1" in alice.text("#segment-S1")
    page.click("#segment-S1 >> text=Carts without an email")
    page.wait_for_url("**/segments/S1/")
    assert alice.text("#segment-count") == "1"
    assert "seam_" in alice.text("#members")
    page.go_back()
    page.click("nav.segmented >> text=7 days")
    page.wait_for_url("**?days=7")
    assert "last 7 days" in alice.text()
    page.click("#deliveries >> text=All errors")
    page.wait_for_url("**/deliveries/")
    assert alice.errors == []


def test_support_finds_a_customer_and_reads_a_raw_payload(session, store):
    bob = session("bob")
    page = bob.page
    page.fill("#customer-search", "order-77")
    page.press("#customer-search", "Enter")
    page.wait_for_url("**/customers/*/**")
    ada = Person.objects.get(customer_id="u-ada")
    assert f"/customers/{ada.pk}/" in page.url
    assert "ada@example.com" in bob.text("#person-card")
    timeline = bob.text("#timeline")
    assert timeline.index("order_completed") < timeline.index("product_viewed")  # newest first
    page.locator("#timeline details.raw summary").first.click()
    page.wait_for_function("document.querySelector('#timeline details.raw pre').textContent.includes('messageId')")
    assert '"seam"' in page.inner_text("#timeline details.raw pre")
    # The search box on the person page finds the next customer.
    page.fill("input[name=q]", "a-cart")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    assert "added_to_cart" in bob.text("#timeline")
    assert bob.errors == []


def test_an_admin_merges_a_duplicate(session, store):
    carol = session("carol")
    page = carol.page
    carol.goto(f"/dashboards/{store.pk}/duplicates/")
    assert "Emails that fold to marialopez@gmail.com" in carol.text()
    keep = Person.objects.get(customer_id="u-maria-2")
    page.check(f"input[name=survivor][value='{keep.pk}']")
    page.click("#merge-1")
    page.wait_for_load_state()
    assert "Merged 1 profile into person" in carol.text(".messages")
    assert "No duplicate candidates" in carol.text()
    recent = carol.text("#recent-merges")
    assert "u-maria-2" in recent and "Merge · pending" in recent
    merge = Merge.objects.get(reason=Merge.Reason.MANUAL)
    assert merge.survivor_id == keep.pk and merge.actor.username == "carol"
    assert carol.errors == []


def test_an_admin_replays_a_dead_delivery(session, store):
    dead = Delivery.objects.filter(event__name="order_completed").get()
    Delivery.objects.filter(pk=dead.pk).update(
        state="dead", attempts=12, last_status_code=503, last_error="unavailable"
    )
    carol = session("carol")
    carol.goto(f"/dashboards/{store.pk}/deliveries/")
    assert "HTTP 503" in carol.text()
    carol.page.click(f"#replay-{dead.pk}")
    carol.page.wait_for_load_state()
    assert "1 delivery queued to send again" in carol.text(".messages")
    dead.refresh_from_db()
    assert dead.state == "pending"
    carol.goto(f"/dashboards/{store.pk}/audit/")
    assert "Replayed" in carol.text()
    assert carol.errors == []
