"""The demo store under /shop/: plain pages that a person, or a script, can click through.

The pages load seam.js with the demo browser key and track the default tracking plan's browser events;
placing the order stores order_completed from the server side, through the demo server source.
Elements a script drives have stable ids: `#collection-<id>`, `#product-<id>`, `#add-to-cart`,
`#quantity`, `#cart-link`, `#checkout`, `#email`, `#place-order`, `#order-id`, `#anonymous-id`.
"""

import json
from dataclasses import asdict
from urllib.parse import unquote
from uuid import uuid4

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from demo.cart import cart_add, cart_clear, cart_get
from demo.catalog import COLLECTIONS, PRODUCTS, collection_products
from demo.keys import DEMO_KEYS
from demo.services import order_place
from workspaces.models import Source
from workspaces.selectors import source_get_by_write_key

ADDED_KEY = "demo_added"  # added_to_cart, waiting for the cart page to send it
ORDERS_KEY = "demo_orders"
MAX_QUANTITY = 99


def _source(kind: str) -> Source:
    source = source_get_by_write_key(DEMO_KEYS[kind])
    if source is None:
        # Production never runs seed_demo, so the store does not exist there.
        raise Http404("The demo store needs the demo workspace: run `manage.py seed_demo` (`make run` does).")
    return source


def _page(request: HttpRequest, template: str, context: dict, *, track: list | None = None, status: int = 200):
    """Render a store page; `track` lists the (event, properties) the page sends through seam.js."""
    _source(Source.Kind.BROWSER)
    seam = {
        "writeKey": DEMO_KEYS[Source.Kind.BROWSER],
        "options": {"apiHost": f"{request.scheme}://{request.get_host()}"},
    }
    context = {**context, "seam": seam, "track": track or [], "cart": cart_get(request.session)}
    return render(request, template, context, status=status)


def _anonymous_id(request: HttpRequest) -> str:
    """The visitor's anonymous id from seam.js's first-party cookie; without it, one for this session."""
    value = unquote(request.COOKIES.get("ajs_anonymous_id", ""))
    if value.startswith('"'):
        try:
            value = str(json.loads(value))
        except ValueError:
            value = ""
    if not value:
        value = request.session.setdefault("demo_anonymous_id", f"shop-{uuid4()}")
    return value


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    collections = [(collection, collection_products(collection.collection_id)) for collection in COLLECTIONS.values()]
    return _page(request, "demo/home.html", {"collections": collections})


@require_GET
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise Http404("no such collection")
    viewed = {"collection_id": found.collection_id, "name": found.name}
    return _page(
        request,
        "demo/collection.html",
        {"collection": found, "products": collection_products(collection_id)},
        track=[("collection_viewed", viewed)],
    )


@require_GET
def product(request: HttpRequest, product_id: str) -> HttpResponse:
    found = PRODUCTS.get(product_id)
    if found is None:
        raise Http404("no such product")
    return _page(
        request,
        "demo/product.html",
        {"product": found, "collection": COLLECTIONS[found.collection_id]},
        track=[("product_viewed", found.viewed_properties())],
    )


@require_POST
def cart_add_view(request: HttpRequest) -> HttpResponse:
    found = PRODUCTS.get(request.POST.get("product_id", ""))
    if found is None:
        raise Http404("no such product")
    try:
        quantity = min(max(int(request.POST.get("quantity", "1")), 1), MAX_QUANTITY)
    except ValueError:
        quantity = 1
    cart, line = cart_add(request.session, product=found, quantity=quantity)
    # Sent by the cart page after the redirect, so a reload of the product page never re-sends it.
    request.session[ADDED_KEY] = cart.added_properties(line)
    return redirect("demo:cart")


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    added = request.session.pop(ADDED_KEY, None)
    return _page(request, "demo/cart.html", {}, track=[("added_to_cart", added)] if added else [])


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    current = cart_get(request.session)
    if not current.lines:
        return redirect("demo:cart")
    if request.method == "GET":
        return _page(request, "demo/checkout.html", {}, track=[("checkout_started", current.checkout_properties())])

    email = request.POST.get("email", "").strip()
    try:
        validate_email(email)
    except ValidationError:
        return _page(request, "demo/checkout.html", {"email": email, "error": "Enter a valid email."}, status=400)
    order, _ = order_place(
        cart=current, email=email, anonymous_id=_anonymous_id(request), source=_source(Source.Kind.SERVER)
    )
    request.session[ORDERS_KEY] = {**request.session.get(ORDERS_KEY, {}), order.order_id: asdict(order)}
    cart_clear(request.session)
    return redirect("demo:order", order_id=order.order_id)


@require_GET
def order(request: HttpRequest, order_id: str) -> HttpResponse:
    placed = request.session.get(ORDERS_KEY, {}).get(order_id)
    if placed is None:
        raise Http404("no such order in this session")
    items = [{**item, "name": PRODUCTS[item["product_id"]].name} for item in placed["items"]]
    return _page(request, "demo/order.html", {"order": placed, "items": items, "anonymous_id": _anonymous_id(request)})
