"""Merge QA: a real headless Chromium clicks through the demo store, then Seam and Customer.io are checked.

The visit: browse two products → add to cart → leave (the browser closes; its cookies and storage are
kept) → come back → capture the email at checkout → place the order. Then five checks, each PASS, FAIL
or SKIP with its reason:

1. the anonymous id stayed stable (the cookie at every step, the id the store's server read, the ids on
   every stored event of the visit);
2. the pre-identify events are on the identified person (Seam's own lookup and timeline);
3. the order is de-duplicated between browser and server: one `order_completed` forwarded for the order id;
4. Seam forwarded the visit: an identify carrying the anonymous id, and one delivered operation per event;
5. Customer.io (the emulator) received that identify and every event exactly once, by event id.

The browser runs in a thread of its own (Playwright's sync API keeps an asyncio loop in its thread, where
Django refuses ORM calls); the checks read the database the server writes, with Seam's settings.
The visit is told apart from other traffic by a unique email and a `SeamMergeQA/<run>` user agent.
"""

import contextlib
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

import requests
from django.db.models import Q
from django.utils import timezone

from demo.chromium import CHROMIUM, CHROMIUM_ARGS
from demo.keys import DEMO_KEYS
from events.models import Event
from forwarding.identifiers import person_identifier
from forwarding.models import Delivery
from identities.models import Person
from identities.selectors import person_events, person_get_by_any_identifier
from workspaces.models import Source, Workspace
from workspaces.selectors import source_get_by_write_key

COOKIE = "ajs_anonymous_id"
SEAM_LOADED = "window.seam && window.seam.loaded === true"
QUEUE_EMPTY = "JSON.parse(localStorage.getItem('seam_queue') || '[]').length === 0"
BROWSER_EVENTS = ["collection_viewed", "product_viewed", "product_viewed", "added_to_cart", "checkout_started"]
FORWARDED_KINDS = (Delivery.Kind.EVENT, Delivery.Kind.ANONYMOUS_EVENT)
PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
CHECK_NAMES = [
    "1 anonymous id stable",
    "2 pre-identify events on the person",
    "3 order de-duplicated",
    "4 forwarded by Seam",
    "5 Customer.io received",
]
SINCE_MARGIN = timedelta(hours=1)  # client clocks are corrected, never by more than this in a sane visit


class MergeQAError(Exception):
    """The merge QA cannot start (no demo workspace, no browser)."""


@dataclass
class Check:
    name: str
    status: str
    reason: str

    def line(self) -> str:
        return f"{self.status}  {self.name}: {self.reason}"


@dataclass
class Visit:
    """What the browser saw. No ORM here: this is filled in the browser's thread."""

    run_id: str
    email: str
    user_agent: str
    base_url: str
    cookies: list[tuple[str, str]] = field(default_factory=list)  # (step, ajs_anonymous_id)
    products: list[str] = field(default_factory=list)
    order_id: str = ""
    server_anonymous_id: str = ""  # what the order page says the store's server read
    browser_order: bool = False
    started_at: datetime | None = None
    console_errors: list[str] = field(default_factory=list)
    failed_step: str = ""
    error: str = ""

    @property
    def anonymous_id(self) -> str:
        return self.cookies[0][1] if self.cookies else ""


# --- the visit ----------------------------------------------------------------------------------------


class VisitStepError(Exception):
    """The store did not offer what the visit needs (e.g. two products in a collection)."""


def visit_store(
    *,
    base_url: str,
    email: str,
    run_id: str,
    chromium: Path = CHROMIUM,
    browser_order: bool = False,
    step_timeout_ms: float = 15000,
) -> Visit:
    """Click through the demo store in headless Chromium; a failed step is recorded, not raised."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as missing:
        raise MergeQAError("merge_qa needs Playwright (pip install -r requirements-dev.txt)") from missing
    if not chromium.exists():
        raise MergeQAError(f"merge_qa needs Chromium at {chromium} (apt-get install chromium, or --chromium PATH)")

    visit = Visit(
        run_id=run_id,
        email=email,
        user_agent="",
        base_url=base_url,
        browser_order=browser_order,
        started_at=timezone.now(),
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        visit.user_agent = (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"HeadlessChrome/{browser.version} Safari/537.36 SeamMergeQA/{run_id}"
        )
        try:
            _visit(browser, visit, step_timeout_ms)
        except (PlaywrightError, VisitStepError) as error:
            visit.error = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        finally:
            browser.close()
    return visit


def _visit(browser, visit: Visit, step_timeout_ms: float) -> None:
    base = visit.base_url.rstrip("/")

    def open_context(storage_state=None):
        context = browser.new_context(user_agent=visit.user_agent, storage_state=storage_state)
        context.set_default_timeout(step_timeout_ms)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and visit.console_errors.append(message.text))
        page.on("pageerror", lambda error: visit.console_errors.append(f"uncaught: {error}"))
        return context, page

    def step(name: str, page, context) -> None:
        visit.failed_step = name
        page.wait_for_function(SEAM_LOADED)
        visit.cookies.append((name, _cookie_value(context, base)))

    # First visit: browse two products of one collection, add the second to the cart.
    context, page = open_context()
    visit.failed_step = "open the store"
    page.goto(f"{base}/shop/")
    step("store home", page, context)
    page.click("[id^='collection-']")
    page.wait_for_url("**/collections/**")
    step("collection", page, context)
    product_ids = [link.get_attribute("id").removeprefix("product-") for link in page.locator("[id^='product-']").all()]
    if len(product_ids) < 2:
        raise VisitStepError(f"the collection page lists {len(product_ids)} products; the visit needs two")
    visit.products = product_ids[:2]
    page.click(f"#product-{visit.products[0]}")
    page.wait_for_url(f"**/products/{visit.products[0]}/")
    step(f"product {visit.products[0]}", page, context)
    page.click("main a[href*='/collections/']")  # back to the collection, as a shopper would
    page.wait_for_url("**/collections/**")
    step("collection again", page, context)
    page.click(f"#product-{visit.products[1]}")
    page.wait_for_url(f"**/products/{visit.products[1]}/")
    step(f"product {visit.products[1]}", page, context)
    page.fill("#quantity", "2")
    page.click("#add-to-cart")
    page.wait_for_url("**/cart/")
    step("cart", page, context)

    # Leave: the tab and the browser close without waiting for seam.js to send; cookies and storage
    # (seam.js's unsent queue included) survive, as they do on disk for a real visitor.
    visit.failed_step = "leave"
    page.close(run_before_unload=True)
    kept = context.storage_state()
    context.close()

    # Come back later: the cart is still there; the email is captured at checkout, then the order.
    context, page = open_context(storage_state=kept)
    visit.failed_step = "come back"
    page.goto(f"{base}/shop/")
    step("return", page, context)
    page.click("#cart-link")
    page.wait_for_url("**/cart/")
    step("cart on return", page, context)
    page.click("#checkout")
    page.wait_for_url("**/checkout/")
    step("checkout", page, context)
    page.fill("#email", visit.email)
    page.press("#email", "Tab")  # leaving the field is the email capture (identify + email_captured)
    page.wait_for_function(QUEUE_EMPTY)
    step("email captured", page, context)
    page.click("#place-order")
    page.wait_for_url("**/orders/**")
    step("order confirmation", page, context)
    visit.order_id = (page.text_content("#order-id") or "").strip()
    visit.server_anonymous_id = (page.text_content("#anonymous-id") or "").strip()
    if visit.browser_order:
        # A client-side purchase tag, as many stores have beside the server's: Seam must forward one.
        visit.failed_step = "browser order_completed"
        page.evaluate("orderId => seam.track('order_completed', {order_id: orderId, currency: 'USD'})", visit.order_id)
    visit.failed_step = "send what is left"
    page.evaluate("seam.flush()")
    page.wait_for_function(QUEUE_EMPTY)
    context.close()
    visit.failed_step = ""


def _cookie_value(context, base: str) -> str:
    """The anonymous id in the first-party cookie: a plain uuid, or a JSON string as the official SDK writes."""
    cookie = next((c for c in context.cookies(base) if c["name"] == COOKIE), None)
    value = unquote(cookie["value"]) if cookie else ""
    if value.startswith('"'):
        with contextlib.suppress(ValueError):
            value = str(json.loads(value))
    return value


# --- the checks ---------------------------------------------------------------------------------------


class EmulatorClient:
    """The emulator's read-only `/_emulator/` endpoints for one site."""

    def __init__(self, base_url: str, site_id: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.site_id = site_id
        self.session = requests.Session()

    def get(self, path: str, **params) -> dict | None:
        response = self.session.get(
            f"{self.base_url}/_emulator/{path}", params={"site_id": self.site_id, **params}, timeout=5
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()


@dataclass
class Found:
    """What Seam stored for the visit, read once the visit is over."""

    workspace: Workspace
    anonymous_id: str
    browser_events: list[Event]  # events from the browser with the run's user agent
    orders: list[Event]  # every order_completed stored for the order id
    person: Person | None = None
    delivered: dict[str, list[Delivery]] = field(default_factory=dict)  # event id → its event deliveries

    @property
    def visit_events(self) -> list[Event]:
        return sorted({e.pk: e for e in [*self.browser_events, *self.orders]}.values(), key=lambda e: e.pk)


def demo_workspace() -> Workspace:
    source = source_get_by_write_key(DEMO_KEYS[Source.Kind.BROWSER])
    if source is None:
        raise MergeQAError("no demo workspace in this database: run `manage.py seed_demo` (make run does)")
    return source.workspace


def run_checks(*, visit: Visit, workspace: Workspace, emulator: EmulatorClient | None, deadline: float) -> list[Check]:
    """The five checks, waiting (until `deadline`, a time.monotonic() value) for what is still in flight."""
    # A visit that stopped early will not complete: look, but do not wait the whole timeout for it.
    found = _wait_for_visit_events(visit, workspace, min(deadline, time.monotonic() + 3) if visit.error else deadline)
    checks = [_check_anonymous_id(visit, found), _check_person(visit, found)]
    _wait(lambda: not _open_deliveries(found), deadline)
    found.delivered = _event_deliveries(found)
    checks.append(_check_order(visit, found))
    forwarded = _check_forwarded(visit, found)
    checks.append(forwarded)
    checks.append(_check_customerio(visit, found, emulator, deadline))
    return checks


def _wait(condition: Callable[[], object], deadline: float, every: float = 0.25):
    """Poll `condition` until it is truthy or the deadline passes; its last value either way."""
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)


def _wait_for_visit_events(visit: Visit, workspace: Workspace, deadline: float) -> Found:
    def read() -> Found:
        ours = Event.objects.filter(workspace=workspace, context__userAgent__icontains=f"SeamMergeQA/{visit.run_id}")
        if visit.started_at is not None:  # the run's own hour, not the whole history (timestamps are indexed)
            ours = ours.filter(timestamp__gte=visit.started_at - SINCE_MARGIN)
        browser = list(ours.order_by("id"))
        orders = (
            list(
                Event.objects.filter(
                    workspace=workspace, name="order_completed", properties__order_id=visit.order_id
                ).select_related("source")
            )
            if visit.order_id
            else []
        )
        return Found(workspace=workspace, anonymous_id=visit.anonymous_id, browser_events=browser, orders=orders)

    def complete(found: Found) -> bool:
        names = Counter(e.name for e in found.browser_events if e.type == Event.Type.TRACK)
        wanted = Counter([*BROWSER_EVENTS, "email_captured"])
        identified = any(e.type == Event.Type.IDENTIFY for e in found.browser_events)
        return all(names[n] >= c for n, c in wanted.items()) and identified and bool(found.orders)

    found = read()
    while not complete(found) and time.monotonic() < deadline:
        time.sleep(0.25)
        found = read()
    return found


def _check_anonymous_id(visit: Visit, found: Found) -> Check:
    name = CHECK_NAMES[0]
    ids = {value for _, value in visit.cookies}
    problems = []
    if not visit.anonymous_id:
        problems.append("no ajs_anonymous_id cookie after the first page")
    if len(ids) > 1:
        changes = [f"{step}={value or '(none)'}" for step, value in visit.cookies]
        problems.append("the cookie changed during the visit: " + ", ".join(changes))
    if visit.server_anonymous_id and visit.server_anonymous_id != visit.anonymous_id:
        problems.append(f"the store's server read {visit.server_anonymous_id} at checkout")
    by_id = Counter(event.anonymous_id for event in found.visit_events)
    others = {value: count for value, count in by_id.items() if value != visit.anonymous_id}
    if others:
        problems.append(
            "stored events carry other ids: " + ", ".join(f"{v or '(none)'} x{c}" for v, c in others.items())
        )
    if not found.browser_events:
        problems.append("no event of this visit was stored")
    if problems:
        return Check(name, FAIL, "; ".join(problems))
    return Check(
        name,
        PASS,
        f"{visit.anonymous_id} in the cookie at all {len(visit.cookies)} steps (before leaving and after coming "
        f"back), read by the store's server at checkout, and on all {len(found.visit_events)} stored events",
    )


def _identify_events(visit: Visit, found: Found) -> list[Event]:
    return [
        e
        for e in found.browser_events
        if e.type == Event.Type.IDENTIFY and str((e.traits or {}).get("email", "")).lower() == visit.email.lower()
    ]


def _check_person(visit: Visit, found: Found) -> Check:
    name = CHECK_NAMES[1]
    identifies = _identify_events(visit, found)
    if not identifies:
        return Check(name, FAIL, f"no identify with traits.email {visit.email} was stored for this visit")
    first = min(identifies, key=lambda e: (e.received_at, e.pk))
    before = [e for e in found.visit_events if (e.received_at, e.pk) < (first.received_at, first.pk)]
    after = [e for e in found.visit_events if (e.received_at, e.pk) > (first.received_at, first.pk)]
    person = person_get_by_any_identifier(workspace=found.workspace, value=visit.email)
    found.person = person
    if person is None or not person.email:
        return Check(name, FAIL, f"no identified person for {visit.email}")
    owner = person_get_by_any_identifier(workspace=found.workspace, value=visit.anonymous_id)
    if owner is None or owner.pk != person.pk:
        where = "nobody" if owner is None else f"person {owner.pk}"
        return Check(name, FAIL, f"{visit.anonymous_id} belongs to {where}, not to person {person.pk} ({person.email})")
    timeline = set(person_events(person=person).values_list("id", flat=True))
    missing_before = [e for e in before if e.pk not in timeline]
    missing_after = [e for e in after if e.pk not in timeline]
    tracked_before = Counter(e.name for e in before if e.type == Event.Type.TRACK)
    if not all(tracked_before[n] >= c for n, c in Counter(BROWSER_EVENTS).items()):
        return Check(name, FAIL, f"the events before the identify are incomplete: {dict(tracked_before)}")
    if missing_before or missing_after:
        missing = [*missing_before, *missing_after]
        return Check(
            name,
            FAIL,
            f"person {person.pk} ({person.email}) lacks {len(missing)} of the visit's events: "
            + ", ".join(_label(e) for e in missing[:8]),
        )
    return Check(
        name,
        PASS,
        f"person {person.pk} ({person.email}) owns {visit.anonymous_id}; its timeline has all {len(before)} "
        f"events from before the identify ({_summary(before)}) and the {len(after)} after it",
    )


def _check_order(visit: Visit, found: Found) -> Check:
    name = CHECK_NAMES[2]
    if not visit.order_id:
        return Check(name, FAIL, "the visit did not reach an order confirmation")
    if not found.orders:
        return Check(name, FAIL, f"no order_completed stored for {visit.order_id}")
    stored = ", ".join(e.source.kind + (f" held as {_hold(e)}" if _hold(e) else "") for e in found.orders)
    forwarded = [
        (event, delivery)
        for event in found.orders
        for delivery in found.delivered.get(event.pk, [])
        if delivery.state not in (Delivery.State.FAILED, Delivery.State.DEAD)
    ]
    if len(forwarded) != 1:
        return Check(
            name,
            FAIL,
            f"{visit.order_id}: {len(forwarded)} order_completed operations forwarded (stored: {stored})",
        )
    event, delivery = forwarded[0]
    has_server = any(e.source.kind == Source.Kind.SERVER for e in found.orders)
    if has_server and event.source.kind != Source.Kind.SERVER:
        return Check(name, FAIL, f"{visit.order_id}: the browser's order_completed was forwarded, not the server's")
    return Check(
        name,
        PASS,
        f"{visit.order_id}: stored {len(found.orders)} ({stored}), one forwarding operation "
        f"(the {event.source.kind} event {event.pk}: delivery {delivery.pk}, {delivery.state})",
    )


def _visit_deliveries(found: Found) -> Q:
    ids = [e.pk for e in found.visit_events]
    by_identify = Q(kind=Delivery.Kind.IDENTIFY, request__body__anonymous_id=found.anonymous_id)
    return Q(event_id__in=ids) | by_identify


def _open_deliveries(found: Found) -> bool:
    return (
        Delivery.objects.filter(workspace=found.workspace, state__in=Delivery.OPEN_STATES)
        .filter(_visit_deliveries(found))
        .exists()
    )


def _event_deliveries(found: Found) -> dict[str, list[Delivery]]:
    delivered: dict[str, list[Delivery]] = {}
    ids = [e.pk for e in found.visit_events]
    for delivery in Delivery.objects.filter(event_id__in=ids, kind__in=FORWARDED_KINDS).order_by("pk"):
        delivered.setdefault(delivery.event_id, []).append(delivery)
    return delivered


def _forwardable(found: Found) -> list[Event]:
    """The visit's track and page events Seam should send (order duplicates are check 3's business)."""
    kinds = (Event.Type.TRACK, Event.Type.PAGE, Event.Type.SCREEN)
    return [e for e in found.browser_events if e.type in kinds and e.name != "order_completed"] + [
        e for e in found.orders if found.delivered.get(e.pk)
    ]


def _check_forwarded(visit: Visit, found: Found) -> Check:
    name = CHECK_NAMES[3]
    workspace = Workspace.objects.get(pk=found.workspace.pk)
    if workspace.forwarding_dry_run:
        return Check(name, FAIL, f"workspace {workspace.name!r} is in dry-run mode: nothing is sent to Customer.io")
    problems = []
    identifies = list(
        Delivery.objects.filter(
            workspace=workspace, kind=Delivery.Kind.IDENTIFY, request__body__anonymous_id=visit.anonymous_id
        )
    )
    if not visit.anonymous_id:
        problems.append("no anonymous id to look for")
    elif not identifies:
        problems.append(f"no identify carrying anonymous_id {visit.anonymous_id} was planned")
    elif not any(d.state == Delivery.State.DELIVERED for d in identifies):
        problems.append("the identify carrying the anonymous id is " + _states(identifies))
    unplanned, twice, undelivered = [], [], []
    for event in _forwardable(found):
        deliveries = found.delivered.get(event.pk, [])
        if not deliveries:
            if not _hold(event):  # held on purpose (blocked, duplicate, storm, unconfirmed) is not a failure
                unplanned.append(event)
        elif len(deliveries) > 1:
            twice.append(event)
        elif deliveries[0].state != Delivery.State.DELIVERED:
            undelivered.append(deliveries[0])
    if unplanned:
        problems.append(f"{len(unplanned)} events never planned: " + ", ".join(_label(e) for e in unplanned[:6]))
    if twice:
        problems.append(f"{len(twice)} events planned more than once: " + ", ".join(_label(e) for e in twice[:6]))
    if undelivered:
        last = next((d.last_error or f"HTTP {d.last_status_code}" for d in undelivered if d.attempts), "never tried")
        paused = " (forwarding is paused)" if workspace.forwarding_paused else ""
        problems.append(f"{len(undelivered)} event operations not delivered: {_states(undelivered)}{paused}; {last}")
    if problems:
        return Check(name, FAIL, "; ".join(problems))
    count = sum(1 for e in _forwardable(found) if found.delivered.get(e.pk))
    held = Counter(_hold(e) for e in found.visit_events if _hold(e) and not found.delivered.get(e.pk))
    held_note = f" ({', '.join(f'{n} held as {h}' for h, n in held.items())})" if held else ""
    return Check(
        name,
        PASS,
        f"identify with anonymous_id delivered ({identifies[0].request['path']}), and {count} event operations "
        f"delivered once each{held_note} to {workspace.effective_track_url}",
    )


def _check_customerio(visit: Visit, found: Found, emulator: EmulatorClient | None, deadline: float) -> Check:
    name = CHECK_NAMES[4]
    if emulator is None:
        return Check(
            name,
            SKIP,
            "no --emulator-url, so Customer.io itself was not read (check 4 read Seam's delivery records)",
        )
    person = found.person
    identifier = person_identifier(person=person, policy=found.workspace.identifier_policy) if person else None
    if identifier is None:
        return Check(name, FAIL, "no identified person in Seam to look for in Customer.io")
    expected = {e.pk: e for e in _forwardable(found) if found.delivered.get(e.pk)}

    def look() -> tuple[dict | None, Counter, Counter, list[dict]]:
        cio = emulator.get(f"people/{quote(identifier[1], safe='')}")
        everywhere: Counter = Counter()
        on_person: Counter = Counter(e["id"] for e in (cio or {}).get("events", []) if e["id"] in expected)
        for someone in (emulator.get("people") or {}).get("people", []):
            everywhere.update(e["id"] for e in someone["events"] if e["id"] in expected)
        anonymous = (emulator.get("anonymous_events") or {}).get("anonymous_events", [])
        everywhere.update(e["id"] for e in anonymous if e["id"] in expected)
        orders = [
            e
            for someone in (emulator.get("people") or {}).get("people", [])
            for e in someone["events"]
            if e["name"] == "order_completed" and (e.get("data") or {}).get("order_id") == visit.order_id
        ] + [
            e
            for e in anonymous
            if e["name"] == "order_completed" and (e.get("data") or {}).get("order_id") == visit.order_id
        ]
        return cio, on_person, everywhere, orders

    def done(seen) -> bool:
        cio, on_person, _, _ = seen
        return bool(cio) and visit.anonymous_id in cio["anonymous_ids"] and set(on_person) == set(expected)

    try:
        seen = look()
        while not done(seen) and time.monotonic() < deadline:
            time.sleep(0.25)
            seen = look()
        notes = (emulator.get("notes", kind="duplicate_event_ignored") or {}).get("notes", [])
    except requests.RequestException as error:
        return Check(name, FAIL, f"the emulator at {emulator.base_url} did not answer: {error}")
    cio, on_person, everywhere, orders = seen
    label = f"{identifier[0]} {identifier[1]}"
    if cio is None:
        return Check(name, FAIL, f"no person {label} in the emulator (site {emulator.site_id})")
    problems = []
    if visit.anonymous_id not in cio["anonymous_ids"]:
        problems.append(f"person {label} lacks anonymous id {visit.anonymous_id} (has {cio['anonymous_ids']})")
    missing = [expected[i] for i in expected if everywhere[i] == 0]
    elsewhere = [expected[i] for i in expected if everywhere[i] and not on_person[i]]
    repeated = [expected[i] for i in expected if everywhere[i] > 1]
    resent = [n for n in notes if (n.get("detail") or {}).get("event_id") in expected]
    if missing:
        problems.append(f"{len(missing)} events never arrived: " + ", ".join(_label(e) for e in missing[:6]))
    if elsewhere:
        problems.append(
            f"{len(elsewhere)} events are not on the person (still anonymous or on another profile): "
            + ", ".join(_label(e) for e in elsewhere[:6])
        )
    if repeated:
        problems.append(f"{len(repeated)} events arrived more than once: " + ", ".join(_label(e) for e in repeated))
    if resent:
        problems.append(f"{len(resent)} re-sends of this visit's events were ignored as duplicates")
    if visit.order_id and len(orders) != 1:
        problems.append(f"{len(orders)} order_completed for {visit.order_id} arrived")
    if problems:
        return Check(name, FAIL, "; ".join(problems))
    return Check(
        name,
        PASS,
        f"person {label} (cio_id {cio['cio_id']}) has anonymous id {visit.anonymous_id} and all "
        f"{len(expected)} events exactly once by id, order_completed once; no re-send ignored as a duplicate",
    )


def _hold(event: Event) -> str:
    """Why the tracking plan keeps a stored event out of the outbox ("" when it does not, or has no say)."""
    return getattr(event, "hold", "") or ""


def _label(event: Event) -> str:
    what = event.name or event.type
    return f"{what} {event.pk}"


def _summary(events: list[Event]) -> str:
    counts = Counter(e.name if e.type == Event.Type.TRACK else e.type for e in events)
    return ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counts.items())


def _states(deliveries: list[Delivery]) -> str:
    return ", ".join(f"{state} x{count}" for state, count in Counter(d.state for d in deliveries).items())


# --- the whole run ------------------------------------------------------------------------------------


def merge_qa(
    *,
    base_url: str,
    emulator_url: str | None = None,
    site_id: str | None = None,
    email: str | None = None,
    timeout: float = 60,
    chromium: Path = CHROMIUM,
    browser_order: bool = False,
    out: Callable[[str], None],
) -> list[Check]:
    """Run the visit and the checks, writing a line per step to `out`; the checks, in order."""
    workspace = demo_workspace()
    run_id = f"{timezone.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    email = email or f"merge-qa+{run_id}@example.com"
    emulator = EmulatorClient(emulator_url, site_id or workspace.site_id) if emulator_url else None
    out(f"merge QA {run_id}: {base_url} as {email}, workspace {workspace.name!r}")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="merge-qa-browser") as pool:
        visit = pool.submit(
            visit_store,
            base_url=base_url,
            email=email,
            run_id=run_id,
            chromium=chromium,
            browser_order=browser_order,
        ).result()
    steps = " → ".join(step for step, _ in visit.cookies)
    out(f"  visit: {steps or '(nothing)'} ({time.monotonic() - started:.1f} s)")
    if visit.error:
        out(f"FAIL  0 visit: stopped at {visit.failed_step!r}: {visit.error}")
    else:
        out(f"  anonymous id {visit.anonymous_id}, order {visit.order_id}, products {', '.join(visit.products)}")
    if visit.console_errors:
        out(f"  console errors: {'; '.join(visit.console_errors[:3])}")
    if visit.cookies:
        checks = run_checks(visit=visit, workspace=workspace, emulator=emulator, deadline=time.monotonic() + timeout)
    else:  # not even the first page: there is nothing to check
        checks = [Check(name, SKIP, "the visit never loaded a page with seam.js") for name in CHECK_NAMES]
    if visit.error:
        checks.insert(0, Check("0 visit", FAIL, f"stopped at {visit.failed_step!r}: {visit.error}"))
    for check in checks[1 if visit.error else 0 :]:
        out(check.line())
    failed = [c for c in checks if c.status == FAIL]
    skipped = [c for c in checks if c.status == SKIP]
    out(
        f"{len(checks) - len(failed) - len(skipped)} passed, {len(failed)} failed, {len(skipped)} skipped "
        f"in {time.monotonic() - started:.1f} s"
    )
    return checks
