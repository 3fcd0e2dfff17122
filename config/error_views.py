"""Django-level error pages: JSON {code, message} for API paths, Django's HTML pages elsewhere."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIXES = ("/v1/", "/api/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "bad_request", "message": "the request is malformed"}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "forbidden", "message": "permission denied"}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"code": "not_found", "message": f"no endpoint at {request.path}"}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"code": "internal_error", "message": "the server could not process this request"}, status=500
        )
    return defaults.server_error(request)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: the process answers (no database round-trip)."""
    return JsonResponse({"status": "ok"})
