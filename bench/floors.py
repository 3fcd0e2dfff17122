"""The floors under P1 and P2: what an ingest request costs before Seam's own work, served beside it.

Each view is a step of the same request, so that `make bench` can show, in the same run as P1 and P2, how much
of their gap no change to Seam's storing can close:

- `FrameworkBare`: a DRF view returning `{}` (Seam's ingest views are DRF views; P2's baseline is plain Django).
- `Validated`: the ingest view itself (throttles, the write key looked up, the body read, every message
  validated, the response) with nothing stored: `IngestView._store` does nothing.
- `Accepted`: as `Validated`, plus the valid messages written durably as they are, one row each, in one
  statement: what an "accept now, resolve later" ingest would still do before acknowledging. Single messages
  share commits as Seam's do (lib/group_commit.py); a batch is one transaction.

Mounted only by bench/urls.py. Their table is bench/harness.py's ACCEPTED_TABLE, made by database_reset.
"""

import functools
from datetime import datetime

import orjson
from django.conf import settings
from django.db import connection, transaction
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from events.api.views import IngestView
from events.ingest.batch import ReadMessages
from lib.group_commit import GroupCommits
from workspaces.models import Source


class FrameworkBare(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({})


class Validated(IngestView):
    def _store(self, source: Source, read: ReadMessages, received_at: datetime) -> None:
        pass


class Accepted(IngestView):
    def _store(self, source: Source, read: ReadMessages, received_at: datetime) -> None:
        if self.message_type is None:
            _accepted_write([(source.pk, received_at, read.accepted)])
        else:
            _accepted_groups().submit(source.pk, (source.pk, received_at, read.accepted))


def _accepted_write(requests: list[tuple[int, datetime, list[dict]]]) -> None:
    rows = [[source_id, received_at, message] for source_id, received_at, messages in requests for message in messages]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_accepted (source_id, received_at, message) "
            "SELECT (row->>0)::bigint, (row->>1)::timestamptz, row->2 FROM jsonb_array_elements(%s::jsonb) AS row",
            [orjson.dumps(rows).decode()],
        )


@functools.cache
def _accepted_groups() -> GroupCommits[tuple[int, datetime, list[dict]]]:
    return GroupCommits(_accepted_write, max_items=settings.SEAM_INGEST_GROUP_MAX)


def ingest_floor(view: type[IngestView], message_type: str | None):
    """`view` for one message type (None: a batch), as events/api/views.py's ingest_view makes Seam's."""
    name = f"{view.__name__}{(message_type or 'batch').title()}"
    return type(name, (view,), {"message_type": message_type}).as_view()
