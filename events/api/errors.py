"""Every API error is JSON {code, message}: SDKs read exactly these keys to decide about retrying."""

import logging
import math

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)

# While the database is unreachable, ask clients to come back: their SDKs retry 5xx and 429.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


class ApiError(exceptions.APIException):
    """An error with a stable machine-readable code, a human message and its HTTP status."""

    def __init__(self, status_code: int, code: str, message: str, **extra: object) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.extra = extra


_DRF_CODES = {
    exceptions.ParseError: "invalid_json",
    exceptions.AuthenticationFailed: "unauthorized",
    exceptions.NotAuthenticated: "unauthorized",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ValidationError: "invalid",
}


def error_body(code: str, message: str, **extra: object) -> dict:
    return {"code": code, "message": message, **extra}


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: shape every failure as {code, message}, never a bare 500."""
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, exc.message, **exc.extra), status=exc.status_code)
    if isinstance(exc, Http404):
        return Response(error_body("not_found", "not found"), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, SuspiciousOperation):  # e.g. a Host header not in ALLOWED_HOSTS
        return Response(error_body("bad_request", "the request is malformed"), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        return Response(error_body("forbidden", "permission denied"), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, exceptions.APIException):
        code = next((code for kind, code in _DRF_CODES.items() if isinstance(exc, kind)), "error")
        response = Response(error_body(code, _message(exc.detail)), status=exc.status_code)
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(math.ceil(exc.wait))
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = 'Bearer realm="seam"'
        return response
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", type(exc).__name__)
        response = Response(
            error_body("unavailable", "the service is temporarily unavailable; retry later"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DatabaseError):
        # A value the database refused that validation let through: a bug in validation, but the
        # client still gets {code, message}. Logged without the payload (it may hold PII).
        logger.exception("database refused an accepted request")
    else:
        logger.exception("unhandled error in API view")
    return Response(
        error_body("internal_error", "the server could not process this request"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _message(detail: object) -> str:
    if isinstance(detail, list):
        return "; ".join(_message(item) for item in detail)
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    return str(detail)
