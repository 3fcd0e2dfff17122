from django.urls import path, re_path

from events.api.views import SourceSettingsView, ingest_view, unknown_endpoint

# Full paths as the server SDKs send them, and the one-letter forms of the browser SDK.
_TYPES = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a", None: "b"}

urlpatterns = [
    path("v1/projects/<str:write_key>/settings", SourceSettingsView.as_view(), name="sdk-settings"),
]
for message_type, letter in _TYPES.items():
    name = message_type or "batch"
    urlpatterns += [
        path(f"v1/{name}", ingest_view(message_type).as_view(), name=f"ingest-{name}"),
        path(f"v1/{letter}", ingest_view(message_type, documented=False).as_view(), name=f"ingest-{name}-short"),
    ]

# Anything else under /v1/ is answered as JSON too, whatever DEBUG says.
urlpatterns.append(re_path(r"^v1/", unknown_endpoint))
