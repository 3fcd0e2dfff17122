"""The Segment-spec ingest endpoints: thin HTTP edges around events.ingest and events.services."""

from datetime import datetime, timedelta

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.api import schema
from events.api.authentication import source_authenticate, write_key_from_body, write_key_from_header
from events.api.errors import ApiError
from events.api.throttling import client_ip, throttle_ip, throttle_source
from events.ingest.batch import ReadMessages, messages_read
from events.ingest.body import BodyRejected, body_read
from events.ingest.messages import Envelope
from events.services import event_store_batch, event_store_grouped
from workspaces.models import Source
from workspaces.selectors import source_get_by_write_key

INGEST_ERRORS = {
    400: OpenApiResponse(schema.ErrorSerializer, description="invalid JSON, or an invalid message"),
    401: OpenApiResponse(schema.ErrorSerializer, description="missing, unknown, revoked or disabled write key"),
    403: OpenApiResponse(schema.ErrorSerializer, description="origin not allowed for this browser source"),
    413: OpenApiResponse(schema.ErrorSerializer, description="message > 32 KB, batch > 500 KB or > 2,500 messages"),
    415: OpenApiResponse(schema.ErrorSerializer, description="a Content-Encoding other than gzip"),
    429: OpenApiResponse(schema.ErrorSerializer, description="too many requests per address or key; see Retry-After"),
    503: OpenApiResponse(schema.ErrorSerializer, description="the database is unavailable; see Retry-After"),
}


class IngestView(APIView):
    """POST one message (or a batch); the write key may come in a header or in the body."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    message_type: str | None = None  # None: a batch, each item naming its own type

    def post(self, request: Request) -> Response:
        received_at = timezone.now()
        throttle_ip(client_ip(request))
        # A key in a header is checked before the body is read: a bad key costs nothing more.
        header_key = write_key_from_header(request.headers.get("Authorization", ""))
        source = source_authenticate(header_key) if header_key else None
        if source is not None:
            throttle_source(source.pk)
        body = self._read_body(request)
        if source is None:
            source = source_authenticate(write_key_from_body(body.data))
            throttle_source(source.pk)
        _check_origin(source, request.headers.get("Origin"))

        messages, envelope = self._unpack(body, received_at)
        read = messages_read(
            messages,
            envelope=envelope,
            max_message_bytes=settings.SEAM_MAX_MESSAGE_BYTES,
            in_batch=self.message_type is None,
            message_type=self.message_type,
        )
        self._store(source, read, received_at)
        return self._respond(read)

    def _store(self, source: Source, read: ReadMessages, received_at: datetime) -> None:
        """What Seam does with a request's valid messages. (bench/floors.py's views replace it to measure the
        request without it.)"""
        if self.message_type is None:
            event_store_batch(source=source, read=read, received_at=received_at)
        else:  # a single message shares a commit with those arriving beside it; a batch fills its own
            event_store_grouped(source=source, read=read, received_at=received_at)

    def _read_body(self, request: Request):
        batch = self.message_type is None
        try:
            return body_read(
                request.stream,
                content_encoding=request.headers.get("Content-Encoding", ""),
                max_bytes=settings.SEAM_MAX_BATCH_BYTES if batch else settings.SEAM_MAX_MESSAGE_BYTES,
                too_large="batch_too_large" if batch else "message_too_large",
            )
        except BodyRejected as rejected:
            raise ApiError(rejected.status, rejected.code, rejected.message) from None

    def _unpack(self, body, received_at) -> tuple[list, Envelope]:
        data = body.data
        max_future = timedelta(seconds=settings.SEAM_MAX_FUTURE_SECONDS)
        if self.message_type is not None:
            envelope = Envelope(received_at=received_at, max_future=max_future, may_contain_nul=body.may_contain_nul)
            return [data], envelope
        if not isinstance(data, dict) or not isinstance(data.get("batch"), list):
            raise ApiError(400, "invalid_batch", "the body must be an object with a `batch` list", field="batch")
        if len(data["batch"]) > settings.SEAM_MAX_BATCH_MESSAGES:
            raise ApiError(
                413, "batch_too_large", f"a batch may hold at most {settings.SEAM_MAX_BATCH_MESSAGES} messages"
            )
        context, integrations = data.get("context"), data.get("integrations")
        for key, value in (("context", context), ("integrations", integrations)):
            if value is not None and not isinstance(value, dict):
                raise ApiError(400, "invalid_field", f"{key} must be a JSON object", field=key)
        envelope = Envelope(
            received_at=received_at,
            max_future=max_future,
            sent_at=data.get("sentAt"),
            context=context,
            integrations=integrations,
            may_contain_nul=body.may_contain_nul,
        )
        return data["batch"], envelope

    def _respond(self, read) -> Response:
        if not read.rejected:
            return Response({})
        rejected = [rejection.as_response() for rejection in read.rejected]
        if self.message_type is not None:
            only = read.rejected[0]
            raise ApiError(400, only.code, only.message, field=only.field)
        if not read.accepted:
            raise ApiError(400, "invalid_batch", "no message in the batch is valid", rejected=rejected)
        return Response({"rejected": rejected})


def _check_origin(source: Source, origin: str | None) -> None:
    if origin and source.kind == Source.Kind.BROWSER and source.origins and origin.rstrip("/") not in source.origins:
        raise ApiError(status.HTTP_403_FORBIDDEN, "origin_not_allowed", f"origin {origin} is not allowed")


def ingest_view(message_type: str | None, *, documented: bool = True):
    """The view for one message type (None: batch), described for the OpenAPI schema.

    The browser SDK's one-letter aliases are the same views, left out of the schema (documented=False).
    """
    request_schema = schema.BATCH_REQUEST if message_type is None else schema.MESSAGE_REQUESTS[message_type]
    summary = "Send a batch of messages" if message_type is None else f"Send one {message_type} message"
    view = type(f"{(message_type or 'batch').title()}IngestView", (IngestView,), {"message_type": message_type})
    described = extend_schema(
        exclude=not documented,
        operation_id=f"ingest_{message_type or 'batch'}",
        summary=summary,
        tags=["ingest"],
        auth=[{"writeKeyBasic": []}, {"writeKeyBearer": []}, {}],
        request={"application/json": request_schema, "text/plain": request_schema},
        responses={200: schema.IngestResponseSerializer, **INGEST_ERRORS},
    )
    return extend_schema_view(post=described)(view)


class SourceSettingsView(APIView):
    """The settings object Customer.io's browser SDK fetches on load, pointing it back at this server."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="browser_sdk_settings",
        tags=["ingest"],
        responses={200: schema.SdkSettingsSerializer, 404: schema.ErrorSerializer},
    )
    def get(self, request: Request, write_key: str) -> Response:
        throttle_ip(client_ip(request))  # an oracle for guessing keys: as costly as ingest
        source = source_get_by_write_key(write_key)
        # Only a browser key is public: a server key (a secret) is never confirmed or echoed back.
        if source is None or source.kind != Source.Kind.BROWSER:
            raise ApiError(404, "unknown_write_key", "no enabled browser source has this write key")
        return Response(
            {
                "integrations": {
                    "Customer.io Data Pipelines": {
                        "apiKey": write_key,
                        "apiHost": f"{request.get_host()}/v1",
                        "protocol": request.scheme,
                    }
                },
            }
        )


def unknown_endpoint(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"code": "not_found", "message": f"no endpoint at {request.path}"}, status=404)
