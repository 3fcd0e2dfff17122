"""Seam's URLs plus the baselines the benchmarks compare against (never mounted outside bench/)."""

from django.db import transaction
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from ulid import ULID

from bench.floors import Accepted, FrameworkBare, Validated, ingest_floor
from config.urls import urlpatterns as seam_urlpatterns
from events.api.authentication import source_authenticate, write_key_from_header
from events.models import Event


@csrf_exempt  # like the ingest API, which authenticates by write key, not by session
def bare(request):
    """P2's baseline: a Django view returning {} through the same middleware and server."""
    return JsonResponse({})


class NaiveMessage(serializers.Serializer):
    type = serializers.CharField()
    userId = serializers.CharField(required=False, allow_null=True)
    anonymousId = serializers.CharField(required=False, allow_null=True)
    event = serializers.CharField(required=False)
    messageId = serializers.CharField(required=False)
    properties = serializers.DictField(required=False)
    context = serializers.DictField(required=False)


class NaiveBatch(APIView):
    """The obvious build, as a reference row: a DRF serializer per message, one ORM insert each."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        source = source_authenticate(write_key_from_header(request.headers.get("Authorization", "")))
        now = timezone.now()
        with transaction.atomic():
            for item in request.data["batch"]:
                message = NaiveMessage(data=item)
                message.is_valid(raise_exception=True)
                data = message.validated_data
                event_id = str(ULID())
                Event.objects.create(
                    id=event_id,
                    workspace_id=source.workspace_id,
                    source=source,
                    type=data["type"],
                    name=data.get("event", ""),
                    user_id=data.get("userId") or "",
                    anonymous_id=data.get("anonymousId") or "",
                    message_id=data.get("messageId") or f"naive-{event_id}",
                    properties=data.get("properties", {}),
                    context=data.get("context", {}),
                    received_at=now,
                    timestamp=now,
                )
        return Response({})


urlpatterns = [
    path("bench/bare", bare),
    path("bench/naive/batch", NaiveBatch.as_view()),
    path("bench/floor/framework", FrameworkBare.as_view()),
    path("bench/floor/validated/batch", ingest_floor(Validated, None)),
    path("bench/floor/validated/track", ingest_floor(Validated, "track")),
    path("bench/floor/accepted/batch", ingest_floor(Accepted, None)),
    path("bench/floor/accepted/track", ingest_floor(Accepted, "track")),
    *seam_urlpatterns,
]
