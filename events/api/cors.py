"""CORS for the ingest API, so pages on a shop's own domain can send to Seam.

Preflights are answered for any origin: a preflight carries no write key, so which origins a
source allows can only be checked on the real request (events.api.views does).
"""

from django.http import HttpRequest, HttpResponse

INGEST_PREFIX = "/v1/"
PREFLIGHT_MAX_AGE = "86400"


class IngestCorsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(INGEST_PREFIX):
            return self.get_response(request)
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = request.headers.get(
                "Access-Control-Request-Headers", "Content-Type, Authorization, Content-Encoding"
            )
            response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        else:
            response = self.get_response(request)
        if origin:
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Credentials"] = "true"
            response["Vary"] = "Origin"
        return response
