"""Test-only pages (pytest.mark.urls): seam.js with options chosen by a test, and Customer.io's SDK."""

import json

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path, re_path
from django.views.static import serve

from demo.keys import DEMO_KEYS
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
{% if bundle == "standalone" %}
<script>
  // What Customer.io's copy-paste snippet sets up before its CDN script, with the CDN pointed at Seam.
  window.cioanalytics = [];
  cioanalytics._writeKey = {{ key_json|safe }};
  cioanalytics._cdn = location.origin;
  ["page", "track", "identify"].forEach(function (method) {
    cioanalytics[method] = function () {
      cioanalytics.push([method].concat([].slice.call(arguments)));
      return cioanalytics;
    };
  });
</script>
<script data-global-customerio-analytics-key="cioanalytics" src="/t/sdk/standalone.js"></script>
{% else %}
<script src="/t/sdk/index.js"></script>
<script>
  // The npm package's documented use (UMD build), pointed at Seam instead of cdp.customer.io.
  window.cioanalytics = AnalyticsNext.AnalyticsBrowser.load({writeKey: {{ key_json|safe }}, cdnURL: location.origin});
</script>
{% endif %}
</head><body><h1>Official SDK</h1></body></html>"""
)


def snippet_page(request: HttpRequest) -> HttpResponse:
    options = {"apiHost": f"{request.scheme}://{request.get_host()}", **json.loads(request.GET.get("o", "{}"))}
    seam = {"writeKey": request.GET.get("key", DEMO_KEYS[Source.Kind.BROWSER]), "options": options}
    return HttpResponse(SNIPPET_PAGE.render({"title": request.GET.get("title", ""), "seam": seam, "track": []}))


def sdk_page(request: HttpRequest) -> HttpResponse:
    context = {"bundle": request.GET.get("bundle"), "key_json": json.dumps(DEMO_KEYS[Source.Kind.BROWSER])}
    return HttpResponse(SDK_PAGE.render(context))


urlpatterns = [
    path("t/snippet/", snippet_page),
    path("t/sdk/", sdk_page),
    re_path(r"^t/sdk/(?P<path>[\w.-]+\.js)$", serve, {"document_root": SDK_DIST}),
    path("", include("config.urls")),
]
