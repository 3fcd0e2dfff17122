"""Failures outside validation still answer {code, message}, with the status a client can act on."""

from django.db import OperationalError
from rest_framework.exceptions import Throttled

from events.api.errors import api_exception_handler


def test_a_database_outage_answers_503_with_retry_after():
    response = api_exception_handler(OperationalError("connection refused"), {})
    assert response.status_code == 503
    assert response.data == {"code": "unavailable", "message": "the service is temporarily unavailable; retry later"}
    assert int(response["Retry-After"]) > 0


def test_throttling_answers_429_with_retry_after():
    response = api_exception_handler(Throttled(wait=2.5), {})
    assert response.status_code == 429
    assert response.data["code"] == "rate_limited"
    assert response["Retry-After"] == "3"


def test_an_unexpected_error_is_still_json(caplog):
    response = api_exception_handler(RuntimeError("boom"), {})
    assert response.status_code == 500
    assert response.data["code"] == "internal_error"
    assert "boom" not in response.data["message"]
