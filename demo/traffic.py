"""Two months of a small coffee shop's traffic, so every dashboard panel has something true to show.

Messages go through the real ingest path (reading, storing, identity resolution, the tracking plan,
the outbox) exactly as POST /v1/batch would take them, one request per source and simulated day, with
client timestamps in the past. Only what a demo cannot wait for is written as history afterwards: when
Seam first saw each id (identity creation time, which ingest stamps with the server clock) and the
outcome of a few deliveries that died retrying long ago.

The shoppers (fixed random seed, so every run makes the same people):
- window shoppers: anonymous browsing, some carts left without an email (segments S1, S3, S9);
- email captures at checkout, most of them ordering (the demo store's own flow);
- returning customers who log in on a new device: anonymous history merged into them;
- one customer on twelve devices (S10), a shared kiosk (two customers, one anonymous id);
- duplicates: the same email under two customer ids, and gmail dots/+tags (the review queue);
- an alias from a legacy id; test emails in production (S8); browser-only orders (S5); an order
  reported twice (S4); product_id sent as a number (S7); plan aliases, missing and unplanned properties;
- a few broken payloads (rejected), an event name Customer.io refuses (failed) and dead deliveries.

Idempotent: when the last message is already stored, nothing is sent again.
"""

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from demo.catalog import COLLECTIONS, CURRENCY, PRODUCTS
from events.ingest.batch import messages_read
from events.ingest.messages import Envelope
from events.models import Event
from events.services import event_store_batch
from forwarding.models import Delivery, DeliveryAttempt
from identities.models import Identity
from workspaces.models import Source, Workspace

DAYS = 60  # two 30-day periods: the dashboard compares the last one with the one before
STAGING_WORKSPACE = "Demo store (staging)"
STAGING_KEY = "sk_demo_staging_write_key"  # public, like the other demo keys
SEED = 20261123
FIRST_NAMES = """Ada Grace Alan Maria Jun Priya Lena Omar Sofia Tomas Yuki Noah
Amara Lucas Ines Mateo Chloe Ravi Elena Kofi Hana Felix Zara Leo""".split()  # noqa: SIM905
LAST_NAMES = """Lovelace Hopper Turing Lopez Chen Patel Novak Haddad Rossi Berg Sato
Kim Okafor Silva Moreau Garcia Dubois Iyer Petrova Mensah Ito Weber""".split()  # noqa: SIM905
# Fictional people at everyday providers (the segments treat example.com addresses as test traffic).
DOMAINS = ["gmail.com", "fastmail.com", "outlook.com", "icloud.com", "proton.me"]
PRODUCT_LIST = list(PRODUCTS.values())
OUTAGE_CUSTOMER = "u-1600"  # her order confirmation died in an outage: the timeline screenshot's story
LONG_EVENT_NAME = (
    "https://shop.example/collections/coffee?utm_source=newsletter&utm_medium=email"
    "&utm_campaign=november-restock-2026&utm_content=hero-banner"
)


@dataclass
class Customer:
    user_id: str
    email: str
    name: str
    devices: list[str] = field(default_factory=list)


@dataclass
class Day:
    """One simulated day's messages, per source kind, in the order they happened, in two rounds: what
    visitors did before they identified, then the identify and what followed. Sent round by round, a
    visitor's anonymous history is stored before the identify that merges it, as it was live."""

    rounds: list[dict[str, list[dict]]] = field(default_factory=lambda: [{"browser": [], "server": []} for _ in "12"])


class Traffic:
    """Builds the messages; `send` hands them to ingest."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.rng = random.Random(SEED)
        self.count = 0
        self.days = [Day() for _ in range(DAYS)]  # index: days ago
        self.customers = [self._customer(1001 + i) for i in range(90)]
        self.orders = 0
        self.round = 0  # of the current visit: 1 once it identified

    # --- building blocks ---------------------------------------------------------------------------

    def _customer(self, number: int) -> Customer:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        email = f"{first}.{last}{number % 97}@{self.rng.choice(DOMAINS)}".lower()
        return Customer(user_id=f"u-{number}", email=email, name=f"{first} {last}")

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.rng.getrandbits(40):010x}{self.count:04d}"

    def _start(self, days_ago: int) -> datetime:
        """A visit's start: during the day, or within the last hours for today's visits."""
        self.round = 0
        if days_ago == 0:
            return self.now - timedelta(minutes=self.rng.randint(20, 330))
        day = self.now - timedelta(days=days_ago)
        return day.replace(hour=self.rng.randint(7, 22), minute=self.rng.randint(0, 59), second=self.rng.randint(0, 59))

    def _msg(self, days_ago: int, at: datetime, kind: str, source: str = "browser", **fields) -> datetime:
        self.count += 1
        message = {"type": kind, "messageId": f"demo-{self.count:06d}", "timestamp": at.isoformat(), **fields}
        message.setdefault("context", {"library": {"name": "seam.js", "version": "1.0.0"}})
        if kind in ("identify", "alias"):
            self.round = 1
        self.days[days_ago].rounds[self.round][source].append(message)
        return at + timedelta(seconds=self.rng.randint(15, 140))

    def _browse(self, days_ago: int, at: datetime, who: dict, *, views: int) -> tuple[datetime, list]:
        """Home, a collection, a few products; returns the products seen."""
        page = {"url": "https://shop.example/", "path": "/", "title": "Seam coffee"}
        at = self._msg(days_ago, at, "page", name="Home", properties=page, **who)
        collection = self.rng.choice(list(COLLECTIONS.values()))
        at = self._msg(
            days_ago,
            at,
            "track",
            event="collection_viewed",
            properties={"collection_id": collection.collection_id, "name": collection.name},
            **who,
        )
        seen = []
        for _ in range(views):
            product = self.rng.choice(PRODUCT_LIST)
            seen.append(product)
            at = self._msg(days_ago, at, "track", event="product_viewed", properties=product.viewed_properties(), **who)
        return at, seen

    def _cart(
        self, days_ago: int, at: datetime, who: dict, products: list, *, style: str = ""
    ) -> tuple[datetime, dict]:
        cart_id = self._id("cart")
        lines = []
        for product in products[: self.rng.randint(1, 2)]:
            quantity = self.rng.choice([1, 1, 1, 2, 3])
            props = {
                "cart_id": cart_id,
                "product_id": product.product_id,
                "sku": product.sku,
                "quantity": quantity,
                "price": product.price,
                "currency": CURRENCY,
            }
            name = "added_to_cart"
            if style == "alias":  # an older snippet: the plan's name and property aliases fix it
                name, props["productId"] = "Added to Cart", props.pop("product_id")
            elif style == "missing":  # a theme that forgot price and currency: violations
                del props["price"], props["currency"]
            at = self._msg(days_ago, at, "track", event=name, properties=props, **who)
            lines.append((product, quantity))
        value = round(sum(product.price * quantity for product, quantity in lines), 2)
        return at, {"cart_id": cart_id, "lines": lines, "value": value}

    def _checkout(self, days_ago: int, at: datetime, who: dict, cart: dict) -> datetime:
        return self._msg(
            days_ago,
            at,
            "track",
            event="checkout_started",
            properties={"cart_id": cart["cart_id"], "value": cart["value"], "currency": CURRENCY},
            **who,
        )

    def _order(self, days_ago: int, at: datetime, who: dict, cart: dict, *, source="server", order_id="") -> datetime:
        self.orders += 1
        order_id = order_id or cart["cart_id"].replace("cart", "order", 1)
        items = [{"product_id": p.product_id, "sku": p.sku, "quantity": q, "price": p.price} for p, q in cart["lines"]]
        properties = {"order_id": order_id, "revenue": cart["value"], "currency": CURRENCY, "items": items}
        who = dict(who)
        context = {"library": {"name": "seam-demo-store" if source == "server" else "seam.js", "version": "1"}}
        context.update(who.pop("context", {}))
        return self._msg(
            days_ago, at, "track", source, event="order_completed", properties=properties, context=context, **who
        )

    # --- the shoppers -------------------------------------------------------------------------------

    def build(self) -> None:
        for days_ago in range(DAYS - 1, -1, -1):
            # A growing shop: more traffic on recent days, and on weekends.
            weekday = (self.now - timedelta(days=days_ago)).weekday()
            visits = self.rng.randint(4, 6) + (2 if weekday >= 5 else 0) + (DAYS - days_ago) // 12
            for _ in range(visits):
                roll = self.rng.random()
                if roll < 0.38:
                    self.window_shopper(days_ago)
                elif roll < 0.55:
                    self.email_capture(days_ago)
                else:
                    self.returning_customer(days_ago)
        self.specials()

    def window_shopper(self, days_ago: int) -> None:
        who = {"anonymousId": self._id("anon")}
        at, seen = self._browse(days_ago, self._start(days_ago), who, views=self.rng.randint(1, 4))
        if self.rng.random() < 0.35:
            style = self.rng.choice(["", "", "", "", "alias", "missing"])
            at, cart = self._cart(days_ago, at, who, seen, style=style)
            if self.rng.random() < 0.3:
                self._checkout(days_ago, at, who, cart)

    def email_capture(self, days_ago: int) -> None:
        anonymous_id = self._id("anon")
        who = {"anonymousId": anonymous_id}
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{self.rng.randint(1, 999)}@{self.rng.choice(DOMAINS)}".lower()
        at, seen = self._browse(days_ago, self._start(days_ago), who, views=self.rng.randint(1, 3))
        at, cart = self._cart(days_ago, at, who, seen)
        at = self._checkout(days_ago, at, who, cart)
        at = self._msg(days_ago, at, "track", event="email_captured", properties={"email": email}, **who)
        at = self._msg(days_ago, at, "identify", traits={"email": email}, **who)
        if self.rng.random() < 0.7:
            # The demo store's checkout: the server reports the order with the browser's anonymous id.
            self._order(days_ago, at, {**who, "context": {"traits": {"email": email}}}, cart)

    def returning_customer(self, days_ago: int) -> None:
        customer = self.rng.choice(self.customers)
        if not customer.devices or self.rng.random() < 0.4:
            customer.devices.append(self._id("anon"))  # a new browser or phone
        anonymous_id = customer.devices[-1]
        who = {"anonymousId": anonymous_id}
        at, seen = self._browse(days_ago, self._start(days_ago), who, views=self.rng.randint(1, 3))
        traits = {"email": customer.email, "name": customer.name, "first_name": customer.name.split()[0]}
        at = self._msg(days_ago, at, "identify", userId=customer.user_id, traits=traits, **who)
        known = {"userId": customer.user_id, "anonymousId": anonymous_id}
        if self.rng.random() < 0.6:
            at, cart = self._cart(days_ago, at, known, seen or [self.rng.choice(PRODUCT_LIST)])
            at = self._checkout(days_ago, at, known, cart)
            if self.rng.random() < 0.75:
                self._order(days_ago, at, {"userId": customer.user_id}, cart)

    def specials(self) -> None:
        """The cases the dashboards exist to catch, a few of each."""
        rng = self.rng
        # One customer on twelve devices: S10's "unusual number of anonymous ids".
        loyal = Customer("u-1500", "frida.berg@fastmail.com", "Frida Berg")
        for index in range(12):
            days_ago = 28 - index * 2
            who = {"anonymousId": self._id("anon")}
            at, _ = self._browse(days_ago, self._start(days_ago), who, views=1)
            self._msg(
                days_ago, at, "identify", userId=loyal.user_id, traits={"email": loyal.email, "name": loyal.name}, **who
            )

        # Ines ordered during Customer.io's outage two days ago; her confirmation never arrived (dead).
        ines = {"userId": OUTAGE_CUSTOMER, "anonymousId": self._id("anon")}
        at, seen = self._browse(2, self._start(2), {"anonymousId": ines["anonymousId"]}, views=2)
        traits = {"email": "ines.moreau@proton.me", "name": "Ines Moreau", "first_name": "Ines"}
        at = self._msg(2, at, "identify", traits=traits, **ines)
        at, cart = self._cart(2, at, ines, seen)
        at = self._checkout(2, at, ines, cart)
        self._order(2, at, {"userId": OUTAGE_CUSTOMER}, cart)

        # A shop kiosk: two customers log in on one browser without a reset (rule 2: shared_device).
        kiosk = "anon-kiosk-store-front"
        for days_ago, user in ((9, self.customers[3]), (4, self.customers[4])):
            at, _ = self._browse(days_ago, self._start(days_ago), {"anonymousId": kiosk}, views=1)
            self._msg(days_ago, at, "identify", userId=user.user_id, anonymousId=kiosk, traits={"email": user.email})

        # Duplicates: a second account with the same email, and gmail dots and +tags (rule 5: never auto-merged).
        twins = [
            ("u-2001", self.customers[0].email, "second account, same email"),
            ("u-2002", self.customers[1].email, "second account, same email"),
            ("u-2003", "maria.lopez@gmail.com", ""),
            ("u-2004", "marialopez+coffee@gmail.com", ""),
            ("u-2005", "j.chen@gmail.com", ""),
            ("u-2006", "jchen+orders@gmail.com", ""),
        ]
        for index, (user_id, email, note) in enumerate(twins):
            days_ago = 20 - index * 3
            who = {"anonymousId": self._id("anon")}
            at, seen = self._browse(days_ago, self._start(days_ago), who, views=2)
            traits = {
                "email": email,
                "name": "Maria Lopez"
                if "maria" in email
                else "Jun Chen"
                if "chen" in email
                else self.customers[index].name,
                **({"note": note} if note else {}),
            }
            at = self._msg(days_ago, at, "identify", userId=user_id, traits=traits, **who)
            at, cart = self._cart(days_ago, at, {"userId": user_id}, seen)
            self._order(days_ago, at, {"userId": user_id}, cart)

        # An alias from the old shop's customer id.
        at = self._start(15)
        at = self._msg(
            15,
            at,
            "track",
            "server",
            userId="legacy-7781",
            event="order_completed",
            properties={"order_id": "order-legacy-7781", "revenue": 31.5, "currency": CURRENCY, "items": []},
        )
        self._msg(15, at, "alias", "server", previousId="legacy-7781", userId=self.customers[7].user_id)

        # Test and staging traffic inside production (S8).
        for days_ago, user_id, email in (
            (12, "u-9001", "test@example.com"),
            (0, "u-9002", "qa+test@gmail.com"),
        ):
            who = {"anonymousId": self._id("anon")}
            at, seen = self._browse(days_ago, self._start(days_ago), who, views=1)
            at = self._msg(days_ago, at, "identify", userId=user_id, traits={"email": email, "name": "QA Bot"}, **who)
            at, cart = self._cart(days_ago, at, {"userId": user_id}, seen)
            self._order(days_ago, at, {"userId": user_id}, cart)

        # Browser-only orders: the thank-you page fired, the backend never confirmed (S5).
        for days_ago in (6, 3, 1):
            customer = rng.choice(self.customers)
            who = {"userId": customer.user_id, "anonymousId": self._id("anon")}
            at, seen = self._browse(days_ago, self._start(days_ago), who, views=1)
            at, cart = self._cart(days_ago, at, who, seen)
            self._order(days_ago, at, who, cart, source="browser")

        # One order reported twice by a retrying backend, with a fresh messageId each time (S4).
        customer = self.customers[11]
        at, cart = self._cart(5, self._start(5), {"userId": customer.user_id}, [PRODUCT_LIST[0]])
        at = self._order(5, at, {"userId": customer.user_id}, cart, order_id="order-retried-5512")
        self._order(5, at + timedelta(seconds=30), {"userId": customer.user_id}, cart, order_id="order-retried-5512")

        # Purchases landing on another profile: the cart is on the phone's anonymous id (never logged in),
        # the order lands on the customer's profile, so the cart-abandon audience still holds the phone (S2).
        for minutes in (50, 100):
            self.round, at = 0, self.now - timedelta(minutes=minutes)
            phone = {"anonymousId": self._id("anon")}
            at, cart = self._cart(0, at, phone, [rng.choice(PRODUCT_LIST)])
            self._order(0, at, {"userId": rng.choice(self.customers).user_id, **phone}, cart)

        # Today's theme deploy dropped price and currency from two carts (S6).
        for minutes in (35, 75):
            self.round, at = 0, self.now - timedelta(minutes=minutes)
            self._cart(0, at, {"anonymousId": self._id("anon")}, [rng.choice(PRODUCT_LIST)], style="missing")

        # A mobile build sending product_id as a number (S7), a few times recently.
        for days_ago in (3, 2, 1, 1, 0):
            product = rng.choice(PRODUCT_LIST)
            props = {**product.viewed_properties(), "product_id": 4400 + PRODUCT_LIST.index(product)}
            self._msg(
                days_ago,
                self._start(days_ago),
                "track",
                event="product_viewed",
                properties=props,
                anonymousId=self._id("anon"),
                context={"library": {"name": "seam-ios", "version": "0.9.2"}},
            )

        # Unplanned events from a new feature nobody added to the plan.
        for days_ago in (4, 2, 1, 0):
            customer = rng.choice(self.customers)
            self._msg(
                days_ago,
                self._start(days_ago),
                "track",
                event="wishlist_added",
                userId=customer.user_id,
                properties={"product_id": rng.choice(PRODUCT_LIST).product_id},
            )

        # An event name that is really a URL: over Customer.io's 100 bytes, refused before sending (failed).
        self._msg(1, self._start(1), "track", event=LONG_EVENT_NAME, userId=self.customers[5].user_id)

        # Ids that identify nobody (rule 7): kept, with an illegal_id warning.
        self._msg(2, self._start(2), "identify", userId="undefined", anonymousId=self._id("anon"), traits={"email": ""})
        self._msg(
            1,
            self._start(1),
            "track",
            userId="null",
            anonymousId=self._id("anon"),
            event="product_viewed",
            properties=PRODUCT_LIST[1].viewed_properties(),
        )

        # Broken payloads: rejected at ingest and kept with their reason.
        broken = [
            {"type": "track", "event": "added_to_cart", "properties": {"cart_id": "c-1"}},  # no identity
            {"type": "track", "anonymousId": "anon-broken-1"},  # no event name
            {"type": "purchase", "userId": "u-1001"},  # not a message type
            {"type": "track", "userId": "u-1002", "event": "order_completed", "timestamp": "yesterday"},
            {"type": "identify", "userId": "u-1003", "traits": "ada@example.com"},  # traits must be an object
        ]
        for index, message in enumerate(broken):
            self.days[0].rounds[0]["server"].append({"messageId": f"demo-broken-{index}", **message})

    # --- sending ------------------------------------------------------------------------------------

    def send(self, sources: dict[str, Source]) -> int:
        """Day by day, oldest first, one batch per source and round; a day's second round travels with
        the next day's first (no visit spans the two), which halves the requests."""
        stored = 0
        carried: dict[str, list[dict]] = {"browser": [], "server": []}
        for days_ago in range(DAYS - 1, -1, -1):
            first, second = self.days[days_ago].rounds
            for kind in ("browser", "server"):
                if carried[kind] or first[kind]:
                    stored += _ingest(sources[kind], carried[kind] + first[kind], self.now)
            carried = second
        for kind in ("browser", "server"):
            if carried[kind]:
                stored += _ingest(sources[kind], carried[kind], self.now)
        return stored

    @property
    def last_message_id(self) -> str:
        """The messageId sent last: once it is stored, the traffic was sent whole."""
        for days_ago in range(DAYS):
            for batches in reversed(self.days[days_ago].rounds):
                for kind in ("server", "browser"):
                    for message in reversed(batches[kind]):
                        if not message["messageId"].startswith("demo-broken"):
                            return message["messageId"]
        return ""


def _ingest(source: Source, messages: list[dict], now: datetime) -> int:
    """POST /v1/batch without HTTP: the same reading, storing, resolution and outbox as the API."""
    read = messages_read(
        messages,
        envelope=Envelope(received_at=now, max_future=timedelta(seconds=settings.SEAM_MAX_FUTURE_SECONDS)),
        max_message_bytes=settings.SEAM_MAX_MESSAGE_BYTES,
        in_batch=True,
    )
    return len(event_store_batch(source=source, read=read, received_at=now).stored)


def traffic_seed(*, workspace: Workspace, sources: dict[str, Source], now: datetime | None = None) -> int:
    """Send the demo traffic once; returns how many events were stored (0 when already seeded)."""
    now = now or timezone.now()
    traffic = Traffic(now)
    traffic.build()  # no database: the same messages (and ids) every time
    if Event.objects.filter(workspace=workspace, message_id=traffic.last_message_id).exists():
        return 0
    stored = traffic.send(sources)
    _first_sight_backdate(workspace)
    _delivery_history(workspace, now)
    _segments_history(workspace, now)
    return stored


def staging_seed(*, now: datetime | None = None) -> Workspace:
    """A staging workspace in dry-run mode with a QA bot's orders: the switcher has somewhere to go."""
    from workspaces.services import source_create, source_issue_key, workspace_ensure

    workspace, _ = workspace_ensure(name=STAGING_WORKSPACE, environment=Workspace.Environment.STAGING)
    if not workspace.forwarding_dry_run:
        workspace.forwarding_dry_run = True
        workspace.save(update_fields=["forwarding_dry_run"])
    source = workspace.sources.filter(name="Staging server").first()
    if source is None:
        source, _ = source_create(
            workspace=workspace, name="Staging server", kind=Source.Kind.SERVER, write_key=STAGING_KEY
        )
    else:
        source_issue_key(source=source, write_key=STAGING_KEY)
    if Event.objects.filter(workspace=workspace, message_id="staging-11-o").exists():
        return workspace
    now = now or timezone.now()
    messages = []
    for index in range(12):
        at = now - timedelta(days=index * 2 % 13, hours=index)
        user = {"userId": f"qa-{index % 4}", "anonymousId": f"anon-qa-{index}"}
        product = PRODUCT_LIST[index % len(PRODUCT_LIST)]
        messages += [
            {
                "type": "identify",
                **user,
                "traits": {"email": f"qa+{index % 4}@shop.example"},
                "timestamp": at.isoformat(),
                "messageId": f"staging-{index}-i",
            },
            {
                "type": "track",
                **user,
                "event": "product_viewed",
                "properties": product.viewed_properties(),
                "timestamp": (at + timedelta(minutes=1)).isoformat(),
                "messageId": f"staging-{index}-v",
            },
            {
                "type": "track",
                **user,
                "event": "order_completed",
                "properties": {
                    "order_id": f"qa-order-{index}",
                    "revenue": product.price,
                    "currency": CURRENCY,
                    "items": [
                        {"product_id": product.product_id, "sku": product.sku, "quantity": 1, "price": product.price}
                    ],
                },
                "timestamp": (at + timedelta(minutes=3)).isoformat(),
                "messageId": f"staging-{index}-o",
            },
        ]
    _ingest(source, messages, now)
    _first_sight_backdate(workspace)
    _segments_history(workspace, now, days=0)
    return workspace


def _first_sight_backdate(workspace: Workspace) -> None:
    """Identities are stamped with the server clock at first sight; the simulated past needs its own."""
    first = {}
    for column, kind in (("anonymous_id", Identity.Kind.ANONYMOUS_ID), ("user_id", Identity.Kind.USER_ID)):
        rows = (
            Event.objects.filter(workspace=workspace)
            .exclude(**{column: ""})
            .values(column)
            .annotate(first=Min("timestamp"))
            .values_list(column, "first")
        )
        first.update({(kind, value): at for value, at in rows})
    identities = list(Identity.objects.filter(workspace=workspace, kind__in=[k for k, _ in first]))
    for identity in identities:
        identity.created_at = first.get((identity.kind, identity.value), identity.created_at)
    Identity.objects.bulk_update(identities, ["created_at"], batch_size=500)


def _segments_history(workspace: Workspace, now: datetime, *, days: int = 7) -> None:
    """Daily segment counts for the last `days` days, as beat would have taken them, then one for now.

    Each is computed as of its moment; events that came later than it are not all excluded by every
    segment's window, so the older points are approximate. Beat adds a true one every 5 minutes.
    """
    from segments.services import segments_snapshot

    breaches = logging.getLogger("segments.services")  # a warning per breach: the dashboard shows them
    level = breaches.level
    breaches.setLevel(logging.ERROR)
    try:
        for days_ago in range(days, 0, -1):
            segments_snapshot(workspace=workspace, now=now - timedelta(days=days_ago))
        segments_snapshot(workspace=workspace, now=now)
    finally:
        breaches.setLevel(level)


def _delivery_history(workspace: Workspace, now: datetime) -> None:
    """Customer.io's outage two days ago: Ines's checkout and order confirmation (and one other operation)
    were retried for hours and died, each attempt kept with what Customer.io answered."""
    outage = list(
        Delivery.objects.filter(
            workspace=workspace, kind=Delivery.Kind.EVENT, state=Delivery.State.PENDING, event__user_id=OUTAGE_CUSTOMER
        ).select_related("event")
    )
    outage += list(
        Delivery.objects.filter(workspace=workspace, kind=Delivery.Kind.EVENT, state=Delivery.State.PENDING)
        .exclude(pk__in=[delivery.pk for delivery in outage])
        .select_related("event")
        .order_by("id")[:1]
    )
    error = '{"meta":{"error":"service unavailable, try again later"}}'
    attempts = []
    for delivery in outage:
        # The outbox row was written when the event arrived (today for the simulated past: then its time).
        written = min(delivery.event.received_at, delivery.event.timestamp + timedelta(seconds=1))
        started = written
        for attempt in range(settings.SEAM_DELIVERY_MAX_ATTEMPTS):
            started += timedelta(seconds=min(2**attempt * 30, 3600))  # back-off, as forwarding/retry.py spaces it
            attempts.append(
                DeliveryAttempt(
                    delivery=delivery,
                    started_at=started,
                    status_code=503,
                    response_body=error,
                    latency_ms=random.Random(delivery.pk + attempt).randint(80, 900),
                )
            )
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.DEAD,
            attempts=settings.SEAM_DELIVERY_MAX_ATTEMPTS,
            created_at=written,
            last_status_code=503,
            last_error=error,
        )
    DeliveryAttempt.objects.bulk_create(attempts)
