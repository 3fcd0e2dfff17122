"""Test-only pages (pytest.mark.urls): seam.js with options chosen by a test, and Customer.io's SDK."""

import json

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path, re_path
from django.views.static import serve

from demo.management.commands.seed_demo import DEMO_KEYS
from demo.tests.browsing import SDK_DIST
from workspaces.models import Source

SNIPPET_PAGE = engines["django"].from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>{{ title }}</title>
{% include "demo/_seam.html" %}
</head><body><h1>{{ title }}</h1></body></html>"""
)

SDK_PAGE = engines["django"].from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Official SDK</title>
<script src="/t/sdk/index.js"></script>
<script>
  // The npm package's documented use, pointed at Seam instead of cdp.customer.io.
  window.cioanalytics = AnalyticsNext.AnalyticsBrowser.load({writeKey: {{ key_json|safe }}, cdnURL: location.origin});
</script>
</head><body><h1>Official SDK</h1></body></html>"""
)


def snippet_page(request: HttpRequest) -> HttpResponse:
    options = {"apiHost": f"{request.scheme}://{request.get_host()}", **json.loads(request.GET.get("o", "{}"))}
    seam = {"writeKey": request.GET.get("key", DEMO_KEYS[Source.Kind.BROWSER]), "options": options}
    return HttpResponse(SNIPPET_PAGE.render({"title": request.GET.get("title", ""), "seam": seam, "track": []}))


def sdk_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(SDK_PAGE.render({"key_json": json.dumps(DEMO_KEYS[Source.Kind.BROWSER])}))


urlpatterns = [
    path("t/snippet/", snippet_page),
    path("t/sdk/", sdk_page),
    re_path(r"^t/sdk/(?P<path>[\w.-]+\.js)$", serve, {"document_root": SDK_DIST}),
    path("", include("config.urls")),
]
