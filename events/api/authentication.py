"""Finding the source a request writes for, from its write key.

Three forms, as the official SDKs send them: HTTP Basic with the key as username (`key:`),
`Authorization: Bearer <key>`, or `writeKey` in the JSON body (the browser SDK, which sends no
Authorization header so that no CORS preflight is needed).
"""

import base64
import binascii

from rest_framework import status

from events.api.errors import ApiError
from workspaces.models import Source
from workspaces.selectors import source_get_by_write_key

# What ingest reads of the workspace on every request, joined to the source's own read: the identity
# policy (identities/selectors.py) and the tracking plan's version (tracking/selectors.py). A join, not
# a cache: a revoked key or a changed policy takes effect on the next request.
INGEST_READS = ("workspace__identity_policy", "workspace__tracking_plan")


def write_key_from_header(authorization: str) -> str | None:
    """The key in an Authorization header; None when there is no header. Raises 401 when malformed."""
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer" and credentials:
        return credentials
    if scheme == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized("the Authorization header is not valid Basic credentials") from None
        return decoded.partition(":")[0]
    raise _unauthorized("the Authorization header must be Basic or Bearer")


def write_key_from_body(data: object) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("writeKey"), str):
        return data["writeKey"]
    return None


def source_authenticate(key: str | None) -> Source:
    """The source for a write key that may write now; 401 for a missing, unknown, revoked or disabled one."""
    if not key:
        raise _unauthorized("a write key is required (Basic, Bearer, or writeKey in the body)")
    source = source_get_by_write_key(key, with_related=INGEST_READS)
    if source is None:
        raise _unauthorized("the write key is unknown, revoked or disabled")
    return source


def _unauthorized(message: str) -> ApiError:
    return ApiError(status.HTTP_401_UNAUTHORIZED, "unauthorized", message)
